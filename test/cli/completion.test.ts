import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { buildProgram } from '../../src/cli/main.js';
import { buildOnce, ROOT } from './support.js';

/*
 * `drover completion bash|zsh|fish` as a shell loads it: a `drover` on PATH (the built
 * command line), the script sourced by a real shell, completions asked of the function it
 * defines. zsh and fish are exercised where they are installed.
 */

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('drover completion', () => {
  let bin: string;
  before(async () => {
    await buildOnce();
    bin = mkdtempSync(join(tmpdir(), 'drover-completion-'));
    const drover = join(bin, 'drover');
    writeFileSync(
      drover,
      `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'drover.js')}" "$@"\n`,
    );
    chmodSync(drover, 0o755);
  });
  after(() => {
    rmSync(bin, { recursive: true, force: true });
  });

  const run = (shell: string, script: string): Promise<Shell> =>
    new Promise((resolve) => {
      execFile(
        shell,
        ['-c', script],
        { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: bin }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  const installed = async (shell: string): Promise<boolean> =>
    (await run('sh', `command -v ${shell}`)).code === 0;

  /** What the bash script offers for a command line, the last word being completed. */
  async function bashOffers(...words: string[]): Promise<string[]> {
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const result = await run(
      'bash',
      `source <(drover completion bash) && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && _drover && printf '%s\\n' "\${COMPREPLY[@]}"`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    return result.stdout.split('\n').filter(Boolean);
  }

  it('loads in bash without errors and registers itself', async () => {
    const result = await run('bash', 'source <(drover completion bash) && complete -p drover');
    assert.deepEqual(result, {
      code: 0,
      stdout: 'complete -o default -F _drover drover\n',
      stderr: '',
    });
  });

  it('completes commands, subcommands, options and choices in bash', async () => {
    assert.deepEqual(await bashOffers('drover', 'ta'), ['task']);
    assert.deepEqual(await bashOffers('drover', 'task', 's'), ['show', 'suspend']);
    assert.deepEqual(await bashOffers('drover', 'task', 'list', '--st'), ['--state']);
    assert.deepEqual(await bashOffers('drover', 're'), ['resume', 'requeue', 'release', 'retry']);
    assert.deepEqual(await bashOffers('drover', 'completion', ''), [
      'bash',
      'zsh',
      'fish',
      '--help',
      '-h',
    ]);
    assert.deepEqual(await bashOffers('drover', 'user', 'add', '--role', ''), [
      'admin',
      'user',
      'node',
    ]);
    // The value of an option is not a subcommand: `--server task` stays at the top.
    assert.deepEqual(await bashOffers('drover', 'jobs', '--server', 'task', '--j'), ['--json']);
    // `-f` takes a file in submit (the file may be called task); in logs it is --follow.
    assert.deepEqual(await bashOffers('drover', 'submit', '-f', 'task', '--fra'), [
      '--frames',
      '--frame-dependent',
    ]);
    assert.deepEqual(await bashOffers('drover', 'logs', '-f', '7', '--all'), ['--all-tries']);
    assert.deepEqual(await bashOffers('drover', 'modify', '--pri'), ['--priority']);
  });

  it('offers every command of the program, from the program itself', async () => {
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    const offered = await bashOffers('drover', '');
    for (const name of names) assert.ok(offered.includes(name), `${name} not offered`);
    const task = program.commands.find((c) => c.name() === 'task')!;
    const sub = await bashOffers('drover', 'task', '');
    for (const c of task.commands) assert.ok(sub.includes(c.name()), `task ${c.name()}`);
  });

  it('loads in zsh and describes the commands', async (t: TestContext) => {
    if (!(await installed('zsh'))) return t.skip('zsh is not installed');
    const result = await run(
      'zsh',
      [
        'autoload -U compinit && compinit -u',
        'source <(drover completion zsh)',
        'print -r -- ${_comps[drover]}',
        // Outside a completion, _describe only shows what it was given.
        '_describe() { local -a given; given=("${(@P)${@[-1]}}"); print -rl -- "${given[@]}" }',
        'words=(drover task s) CURRENT=3 _drover',
      ].join('\n'),
    );
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], '_drover');
    assert.ok(lines.includes('suspend:suspend tasks (a running one is stopped)'), result.stdout);
    assert.ok(lines.includes("list:list a job's tasks"), result.stdout);
  });

  it('loads in fish and completes', async (t: TestContext) => {
    if (!(await installed('fish'))) return t.skip('fish is not installed');
    const result = await run(
      'fish',
      'drover completion fish | source; complete -C "drover ta"; complete -C "drover task list --st"',
    );
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^task\tlist, show, read and act on the tasks of a job\n/);
    assert.match(result.stdout, /\n--state\tonly tasks in these states/);
  });

  it('refuses a shell it does not know', async () => {
    const result = await run('sh', 'drover completion tcsh');
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish\./,
    );
  });
});
