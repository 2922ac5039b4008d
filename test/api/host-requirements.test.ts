import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, getJob, register, report } from './support.js';

/*
 * Host requirements (docs/openjd.md#host-requirements): nodes report OpenJD attributes and
 * amounts, jobs (an OpenJD step, or a native job's hostRequirements) require them, and only
 * a node that meets them gets a task. Each test works in its own pool.
 */

const step = (name: string, hostRequirements: unknown) => ({
  specificationVersion: 'jobtemplate-2023-09',
  name,
  steps: [
    {
      name: 'Run',
      hostRequirements,
      script: { actions: { onRun: { command: 'true' } } },
    },
  ],
});

const os = (family: string, extra: Record<string, unknown> = {}) => ({
  capabilities: { attributes: { 'attr.worker.os.family': [family] }, ...extra },
});

for (const database of TEST_DATABASES) {
  describe(`native API: host requirements (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    /** The one step job of an OpenJD submission. */
    const submitStep = async (pool: string, hostRequirements: unknown) => {
      const parent = expectStatus(
        await t.request('POST', '/api/v1/jobs', { template: step(pool, hostRequirements), pool }),
        201,
      ).body;
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parent.id}`), 200);
      return (res.body.items as { id: number }[])[0]!.id;
    };
    const reasons = async (jobId: number) =>
      expectStatus(await t.request('GET', `/api/v1/jobs/${jobId}/waiting-reasons`), 200).body
        .reasons as { code: string; message: string }[];

    it('an OS requirement: a linux node never gets the windows step, a windows node does', async () => {
      const jobId = await submitStep('os', {
        attributes: [{ name: 'attr.worker.os.family', anyOf: ['Windows'] }],
      });
      assert.deepEqual((await getJob(t, jobId)).hostRequirements, {
        attributes: [{ name: 'attr.worker.os.family', anyOf: ['windows'] }],
        amounts: [],
      });
      const linux = await register(t, 'os-linux', { pools: ['os'], ...os('linux') });
      // An older worker reports nothing: it registers, and gets nothing of the job either.
      const old = await register(t, 'os-old', { pools: ['os'] });
      assert.deepEqual(old.capabilities, { attributes: {}, amounts: {} });
      assert.equal(await acquire(t, linux.id), undefined);
      assert.equal(await acquire(t, old.id), undefined);
      assert.deepEqual(await reasons(jobId), [
        {
          code: 'HOST_REQUIREMENTS',
          message: 'no enabled node has attr.worker.os.family in [windows]',
        },
      ]);
      const idle = expectStatus(
        await t.request('GET', `/api/v1/nodes/${linux.id}/idle-reasons`),
        200,
      ).body;
      assert.match(
        JSON.stringify(idle),
        /the node has attr.worker.os.family linux, not one in \[windows\]/,
      );

      const windows = await register(t, 'os-windows', { pools: ['os'], ...os('windows') });
      const shown = expectStatus(await t.request('GET', `/api/v1/nodes/${windows.id}`), 200).body;
      assert.deepEqual(shown.capabilities, {
        attributes: { 'attr.worker.os.family': ['windows'] },
        amounts: {},
      });
      const work = await acquire(t, windows.id);
      assert.equal(work?.job.id, jobId);
      expectStatus(
        await report(t, work.execution.id, 'finish', { nodeId: windows.id, success: true }),
        200,
      );
    });

    it('amount max bounds, also of a native job, and a custom amount', async () => {
      // At most 4 cpus (a native job's hostRequirements; its own resources are apart).
      const small = expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          parameters: { executable: 'true' },
          pool: 'amounts',
          hostRequirements: { amounts: [{ name: 'amount.worker.vcpu', max: 4 }] },
        }),
        201,
      ).body;
      assert.deepEqual(small.hostRequirements, {
        attributes: [],
        amounts: [{ name: 'amount.worker.vcpu', max: 4 }],
      });
      // At least 8 GiB of GPU memory: an amount the worker reports itself.
      const gpu = await submitStep('amounts', {
        amounts: [{ name: 'amount.worker.gpu.memory', min: 8192 }],
      });
      const big = await register(t, 'amounts-big', { pools: ['amounts'], cpus: 16 });
      assert.equal(await acquire(t, big.id), undefined, 'neither fits 16 cpus without GPU memory');
      const gpuNode = await register(t, 'amounts-gpu', {
        pools: ['amounts'],
        cpus: 16,
        capabilities: { amounts: { 'amount.worker.gpu.memory': 8192 } },
      });
      assert.equal((await acquire(t, gpuNode.id))?.job.id, gpu);
      const four = await register(t, 'amounts-four', { pools: ['amounts'], cpus: 4 });
      assert.equal((await acquire(t, four.id))?.job.id, small.id);
    });

    it('refuses invalid requirements and capabilities with where they are', async () => {
      const refused = async (body: Record<string, unknown>, field: string, message: RegExp) => {
        const err = expectError(await t.request('POST', '/api/v1/jobs', body), 400);
        assert.match(err.body.message, message, field);
        assert.ok(err.body.message.includes(field), `${field} in ${err.body.message}`);
      };
      await refused(
        {
          template: step('bad', {
            attributes: [{ name: 'attr.worker.os.family', anyOf: ['beos'] }],
          }),
        },
        'steps[0].hostRequirements.attributes[0].anyOf[0]',
        /"beos" is not one of windows, linux, macos/,
      );
      await refused(
        { template: step('bad', { amounts: [{ name: 'amount.worker.vcpu', min: 8, max: 4 }] }) },
        'steps[0].hostRequirements.amounts[0].min',
        /must not be greater than max/,
      );
      const native = (hostRequirements: unknown) => ({
        type: 'command-line',
        parameters: { executable: 'true' },
        hostRequirements,
      });
      await refused(
        native({ attributes: [{ name: 'attr.worker.cpu.arch', anyOf: ['x86_64', 'sparc'] }] }),
        'hostRequirements.attributes[0].anyOf[1]',
        /"sparc" is not one of x86_64, arm64/,
      );
      await refused(
        native({ attributes: [{ name: 'os', anyOf: ['linux'] }] }),
        'hostRequirements.attributes[0].name',
        /not an attribute capability name/,
      );
      await refused(
        native({ amounts: [{ name: 'amount.nuke', min: 1 }] }),
        'hostRequirements.amounts[0].name',
        /name it in limits instead/,
      );
      const reg = expectError(
        await t.request('POST', '/api/v1/nodes', {
          name: 'bad-node',
          capabilities: { attributes: { 'attr.worker.os.family': ['beos'] } },
        }),
        400,
      );
      assert.match(
        reg.body.message,
        /capabilities.attributes\["attr.worker.os.family"\]: "beos" is not one of/,
      );
    });
  });
}
