import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { exitedUncollected } from '../../src/worker/process-tree.js';

/*
 * A worker that stops, or whose lease fence fires, just as a task's command exits must
 * report how the command ended rather than give the task back (issue 12: the task ran its
 * side effects again). Node learns of the exit only when its event loop gets to the
 * SIGCHLD, which under load is late; /proc already shows the zombie.
 */

describe('exitedUncollected', { skip: process.platform !== 'linux' && 'Linux /proc' }, () => {
  it('sees a child that exited before Node collects it, and nothing once collected', async () => {
    const child = spawn('sleep', ['0.2'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid!;
    assert.equal(exitedUncollected(pid), false, 'running');
    // The event loop is held here, so Node cannot collect the child meanwhile.
    const until = Date.now() + 10_000;
    let seen = false;
    while (!seen && Date.now() < until) seen = exitedUncollected(pid);
    assert.equal(seen, true, 'exited, not collected');
    assert.equal(child.exitCode, null, 'Node has not heard yet');
    await once(child, 'exit');
    assert.equal(exitedUncollected(pid), false, 'collected');
  });
});
