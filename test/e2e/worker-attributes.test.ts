/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  jobEnded,
  startE2eServer,
  startWorker,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * Host requirements end to end (docs/openjd.md#host-requirements): a real `drover worker`
 * started with `--attribute` and `--amount` reports them beside the machine's OS and CPU
 * attributes, runs the OpenJD step that requires its custom attribute and amount, and
 * never takes the one requiring a value it lacks.
 */

const template = (name: string, hostRequirements: unknown) => ({
  specificationVersion: 'jobtemplate-2023-09',
  name,
  steps: [
    {
      name: 'Run',
      hostRequirements,
      script: { actions: { onRun: { command: 'sh', args: ['-c', 'echo ran'] } } },
    },
  ],
});

const OS_FAMILY = { linux: 'linux', darwin: 'macos', win32: 'windows' }[process.platform as string];

for (const database of TEST_DATABASES) {
  describe(`a worker's attributes and amounts (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;

    before(async () => {
      ensureBuilt();
      e2e = await startE2eServer({}, database);
      worker = startWorker(e2e.url, 'site-worker', join(e2e.dataDir, 'w'), [
        '--attribute',
        'attr.site=render,GPU',
        '--amount',
        'amount.worker.tokens=3',
      ]);
    });

    after(async () => {
      await worker?.stop();
      await e2e?.close();
    });

    const submit = async (name: string, hostRequirements: unknown): Promise<number> => {
      const res = await e2e.api('POST', '/api/v1/jobs', {
        template: template(name, hostRequirements),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id;
    };

    it('runs the step requiring its custom attribute, never the one it lacks', async () => {
      const elsewhere = await submit('Sim', {
        attributes: [{ name: 'attr.site', anyOf: ['sim'] }],
      });
      const here = await submit('Render', {
        attributes: [
          { name: 'attr.site', allOf: ['render', 'gpu'] },
          ...(OS_FAMILY ? [{ name: 'attr.worker.os.family', anyOf: [OS_FAMILY] }] : []),
        ],
        amounts: [{ name: 'amount.worker.tokens', min: 2, max: 3 }],
      });
      const job = await jobEnded(e2e, here, worker);
      assert.equal(job.state, 'COMPLETED', worker.output());

      const nodes = (await e2e.api('GET', '/api/v1/nodes')).body.items as any[];
      const node = nodes.find((n) => n.name === 'site-worker');
      assert.deepEqual(node.capabilities.attributes['attr.site'], ['render', 'gpu']);
      assert.equal(node.capabilities.amounts['amount.worker.tokens'], 3);
      if (OS_FAMILY) {
        assert.deepEqual(node.capabilities.attributes['attr.worker.os.family'], [OS_FAMILY]);
      }

      const [step] = (await e2e.api('GET', `/api/v1/jobs?parent=${elsewhere}`)).body.items as any[];
      assert.equal(step.state, 'QUEUED');
      assert.equal(step.tasks.running + step.tasks.completed, 0);
      const reasons = (await e2e.api('GET', `/api/v1/jobs/${step.id}/waiting-reasons`)).body
        .reasons;
      assert.deepEqual(reasons, [
        { code: 'HOST_REQUIREMENTS', message: 'no enabled node has attr.site in [sim]' },
      ]);
    });
  });
}
