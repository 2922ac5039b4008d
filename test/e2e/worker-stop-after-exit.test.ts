import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  executionsOf,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Issue 12: a worker stopped (SIGTERM) after its task's command has exited reports how the
 * command ended; it does not give the task back. The command had done its work, and the
 * task given back ran it all again: the worker-containment run wrote a frame twice on
 * PostgreSQL when its steady worker was stopped while a finished task's log was being
 * flushed. Here a proxy between worker and server holds that flush, so that the stop lands
 * in it every time; then it lets the flush through.
 */

/** An HTTP proxy to `target` that holds execution log uploads while `hold` is set. */
function logHoldingProxy(target: string) {
  const held: (() => void)[] = [];
  const state = { hold: false, held: () => held.length };
  const server = http.createServer((req, res) => {
    const forward = () => {
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (state.hold && req.method === 'POST' && /\/executions\/\d+\/logs$/.test(req.url ?? '')) {
      held.push(forward);
    } else {
      forward();
    }
  });
  return {
    state,
    release(): void {
      state.hold = false;
      for (const forward of held.splice(0)) forward();
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const database of TEST_DATABASES) {
  describe(
    `a worker stopped after its command exited (${database.name})`,
    { timeout: 120_000 },
    () => {
      let e2e: E2eServer;
      let proxy: ReturnType<typeof logHoldingProxy>;
      let worker: WorkerProcess;
      let dir: string;

      before(async () => {
        ensureBuilt();
        e2e = await startE2eServer({ leaseSeconds: 30, reaperSeconds: 1 }, database);
        dir = join(e2e.dataDir, 'marks');
        mkdirSync(dir);
        proxy = logHoldingProxy(e2e.url);
        worker = startWorker(
          await proxy.listen(),
          `stop-after-exit-${database.name}`,
          join(e2e.dataDir, 'w'),
        );
      });

      after(async () => {
        proxy?.release();
        await worker?.stop();
        await proxy?.close();
        await e2e?.close();
      });

      it('reports the finish instead of giving the task back', async () => {
        const id = await submitScript(
          e2e,
          [
            `while [ ! -e ${dir}/go ]; do sleep 0.05; done`,
            `echo $DROVER_EXECUTION_ID >> ${dir}/marker`,
          ].join('\n'),
        );
        // Running, and its first log batch (the command line) is stored: the shipper is idle.
        const execution = await waitFor(
          'the task to run',
          30_000,
          async () => {
            const [x] = await executionsOf(e2e, id);
            return x?.state === 'RUNNING' && x.logLines > 0 ? x : undefined;
          },
          worker.output,
        );
        proxy.state.hold = true;
        writeFileSync(join(dir, 'go'), '');
        await waitFor('the log flush after the exit', 30_000, async () => proxy.state.held() > 0);
        assert.equal(readFileSync(join(dir, 'marker'), 'utf8'), `${execution.id}\n`);

        worker.child.kill('SIGTERM');
        await waitFor('the worker to start stopping', 30_000, async () =>
          /SIGTERM: stopping/.test(worker.output()),
        );
        proxy.release();
        await worker.exited;

        const executions = await executionsOf(e2e, id);
        assert.deepEqual(
          executions.map((x) => [x.id, x.state]),
          [[execution.id, 'COMPLETED']],
          worker.output(),
        );
        assert.equal((await jobState(e2e, id)).state, 'COMPLETED');
        assert.match(worker.output(), new RegExp(`execution ${execution.id}: completed`));
      });
    },
  );
}
