/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  executionsOf,
  jobEnded,
  startE2eServer,
  startWorker,
  submitScript,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Capacity (docs/scheduling.md): a real `drover worker` offering 2 GPUs (`--gpus 2`: the
 * machine has none, the count is what the node offers) runs the commands of jobs asking
 * for gpus, and each command sees only the indexes its execution was given, in
 * CUDA_VISIBLE_DEVICES and AMD's ROCR_ and HIP_VISIBLE_DEVICES. An OpenJD step asks
 * through its host requirements (amount.worker.gpu).
 */

const SCRIPT =
  'sleep 0.3; echo "cuda=$CUDA_VISIBLE_DEVICES rocr=$ROCR_VISIBLE_DEVICES hip=$HIP_VISIBLE_DEVICES"';

for (const database of TEST_DATABASES) {
  describe(`a worker shows each task its own GPUs (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;

    before(async () => {
      ensureBuilt();
      e2e = await startE2eServer({}, database);
      worker = startWorker(e2e.url, 'gpus', join(e2e.dataDir, 'w'), [
        '--gpus',
        '2',
        '--slots',
        '4',
      ]);
    });

    after(async () => {
      await worker?.stop();
      await e2e?.close();
    });

    async function stdoutOf(executionId: number): Promise<string[]> {
      const log = (await e2e.api('GET', `/api/v1/executions/${executionId}/logs`)).body;
      return log.lines.filter((l: any) => l.stream === 'stdout').map((l: any) => l.text);
    }

    it('a task asking one GPU sees its own index; two at once never share one', async () => {
      const id = await submitScript(e2e, SCRIPT, { frames: '1-6', resources: { gpus: 1 } });
      const job = await jobEnded(e2e, id, worker);
      assert.equal(job.state, 'COMPLETED', worker.output());
      const executions = await executionsOf(e2e, id);
      assert.equal(executions.length, 6);
      for (const e of executions) {
        assert.equal(e.gpus?.length, 1, JSON.stringify(e));
        const [gpu] = e.gpus;
        assert.ok(gpu === 0 || gpu === 1);
        assert.deepEqual(await stdoutOf(e.id), [`cuda=${gpu} rocr=${gpu} hip=${gpu}`]);
      }
      // Executions that overlapped in time held different GPUs.
      for (const a of executions) {
        for (const b of executions) {
          const overlap =
            a.id < b.id &&
            Date.parse(a.startedAt) < Date.parse(b.endedAt) &&
            Date.parse(b.startedAt) < Date.parse(a.endedAt);
          if (overlap) assert.notEqual(a.gpus[0], b.gpus[0], `${a.id} and ${b.id}`);
        }
      }
    });

    it('an OpenJD step asking two GPUs (amount.worker.gpu) sees both', async () => {
      const res = await e2e.api('POST', '/api/v1/jobs', {
        template: {
          specificationVersion: 'jobtemplate-2023-09',
          name: 'Gpus',
          steps: [
            {
              name: 'Render',
              hostRequirements: { amounts: [{ name: 'amount.worker.gpu', min: 2 }] },
              script: { actions: { onRun: { command: 'sh', args: ['-c', SCRIPT] } } },
            },
          ],
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const parent = res.body.id as number;
      const job = await jobEnded(e2e, parent, worker);
      assert.equal(job.state, 'COMPLETED', worker.output());
      const children = (await e2e.api('GET', `/api/v1/jobs?parent=${parent}`)).body;
      const child = (children.items as any[])[0];
      assert.equal(child.resources.gpus, 2);
      const [execution] = await executionsOf(e2e, child.id);
      assert.deepEqual(execution.gpus, [0, 1]);
      assert.deepEqual(await stdoutOf(execution.id), ['cuda=0,1 rocr=0,1 hip=0,1']);
    });

    it('a job asking no GPU is not given any', async () => {
      const id = await submitScript(e2e, 'echo "cuda=${CUDA_VISIBLE_DEVICES-unset}"');
      const job = await jobEnded(e2e, id, worker);
      assert.equal(job.state, 'COMPLETED', worker.output());
      const [execution] = await executionsOf(e2e, id);
      assert.equal(execution.gpus, undefined);
      assert.deepEqual(await stdoutOf(execution.id), [
        `cuda=${process.env.CUDA_VISIBLE_DEVICES ?? 'unset'}`,
      ]);
    });
  });
}
