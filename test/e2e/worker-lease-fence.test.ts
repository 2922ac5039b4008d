/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  executionsOf,
  isAlive,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * A worker cut off from its server stops its tasks once their leases run out, since the
 * server may by then run them elsewhere (issue 12: a live worker whose heartbeats did not
 * get through ran a frame to its end while another node ran it again). The worker talks
 * to the server through a proxy that the test turns into a black hole: requests hang, as
 * with a server too busy to answer or a network that drops packets. The task's first run
 * sleeps far longer than the lease before it writes its marker; it must be stopped before
 * it does, and the run after the lease (on the same worker, once the proxy passes again)
 * writes the only marker. The fence is the worker's own: SQLite only.
 */

/** A TCP proxy that passes bytes both ways, or, while `blackHole` is set, drops them. */
function blackHoleProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  const state = { blackHole: false };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => void (state.blackHole || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (state.blackHole || client.write(chunk)));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return {
    state,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a worker cut off from its server', { timeout: 180_000 }, () => {
  let e2e: E2eServer;
  let worker: WorkerProcess;
  let proxy: ReturnType<typeof blackHoleProxy>;
  let dir: string;

  before(async () => {
    ensureBuilt();
    // 12 s: the worker stops a task a quarter of the lease before its end, and a loaded
    // machine answers heartbeats late. A 2 s lease was fenced before the proxy cut anything;
    // with 4 s, and once more with 8 s (a full CI run on a 2-core machine), the second run
    // (no sleep) ended with its lease gone and a third run followed, so two markers.
    e2e = await startE2eServer({ leaseSeconds: 12, reaperSeconds: 1 });
    dir = join(e2e.dataDir, 'marks');
    mkdirSync(dir);
    proxy = blackHoleProxy(new URL(e2e.url));
    worker = startWorker(await proxy.listen(), 'fenced', join(e2e.dataDir, 'w'));
  });

  after(async () => {
    proxy.state.blackHole = false;
    await worker?.stop();
    await proxy?.close();
    await e2e?.close();
  });

  it('stops its task when the lease runs out, and the task runs once to its end', async () => {
    const id = await submitScript(
      e2e,
      `echo $$ > ${dir}/pid-$DROVER_EXECUTION_ID
       if [ ! -e ${dir}/ran ]; then touch ${dir}/ran; sleep 300; fi
       touch ${dir}/marker-$DROVER_EXECUTION_ID`,
    );
    const first = await waitFor(
      'the task to run',
      30_000,
      async () => {
        const [execution] = await executionsOf(e2e, id);
        return execution?.state === 'RUNNING' && existsSync(join(dir, `pid-${execution.id}`))
          ? execution
          : undefined;
      },
      worker.output,
    );
    const pid = Number(readFileSync(join(dir, `pid-${first.id}`), 'utf8'));
    // A heartbeat has renewed the lease, and told the worker how long a lease lasts.
    await waitFor('a heartbeat', 30_000, async () => {
      const [execution] = await executionsOf(e2e, id);
      return Date.parse(execution.leaseExpiresAt) > Date.parse(first.leaseExpiresAt)
        ? true
        : undefined;
    });
    proxy.state.blackHole = true;

    await waitFor('the worker to stop its task', 60_000, async () => !isAlive(pid), worker.output);
    assert.match(worker.output(), new RegExp(`execution ${first.id}: its lease ran out`));
    assert.equal(existsSync(join(dir, `marker-${first.id}`)), false);

    proxy.state.blackHole = false;
    const job = await waitFor(
      'the job to complete',
      90_000,
      async () => ((await jobState(e2e, id)).state === 'COMPLETED' ? true : undefined),
      worker.output,
    );
    assert.equal(job, true);
    const markers = readdirSync(dir).filter((f) => f.startsWith('marker-'));
    const executions = await executionsOf(e2e, id);
    const completed = executions.filter((e: any) => e.state === 'COMPLETED');
    // On a failure, what the worker did and what the server recorded say why.
    const story = () =>
      `executions: ${JSON.stringify(executions.map((e: any) => [e.id, e.state, e.createdAt, e.startedAt, e.endedAt, e.error]))}\nworker:\n${worker.output()}`;
    assert.equal(completed.length, 1, story());
    assert.deepEqual(markers, [`marker-${completed[0].id}`], story());
    assert.notEqual(completed[0].id, first.id);
  });
});
