/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  defineTemplate,
  expect,
  expectDetail,
  nativeJob,
  nativeToken,
  registerNode,
  startUfdl,
  type UfdlClient,
  type UfdlWorld,
} from './support.js';

/*
 * Meta templates and parent jobs: a meta template is a composite Drover job type
 * (definition.children), imported through UFDL's import; create-job makes the parent and
 * one child per entry; a child that runs after another waits for it; the parent's phase
 * follows its children (start on the first start, finish when all finish, error when one
 * errors) and cancelling it cancels them.
 */

const DATASET = 'PK<Dataset<Domain<Image Classification>>>';

async function metaTemplate(w: UfdlWorld): Promise<any> {
  await defineTemplate(w, 'train');
  await defineTemplate(w, 'predict');
  return expect(
    await w.admin.call('POST', '/v1/job-templates/import', {
      name: 'pipeline',
      version: '1',
      definition: {
        children: [
          { name: 'train', type: 'train' },
          { name: 'predict', type: 'predict', after: ['train'] },
        ],
      },
    }),
    200,
    'import meta template',
  );
}

async function createPipeline(w: UfdlWorld, pk: number): Promise<any> {
  return expect(
    await w.user.call('POST', `/v1/job-templates/${pk}/create-job`, {
      input_values: {
        'train:dataset': { value: 7, type: DATASET },
        'predict:dataset': { value: 8, type: DATASET },
      },
      parameter_values: { 'train:epochs': { value: 3, type: 'int' } },
      description: 'a pipeline',
    }),
    200,
    'create-job',
  );
}

async function childrenOf(w: UfdlWorld, parent: number): Promise<any[]> {
  return expect(
    await w.user.call('POST', '/v1/jobs/list', {
      expressions: [{ type: 'exact', field: 'parent', value: parent }],
    }),
    200,
    'children',
  );
}

async function work(node: UfdlClient, pk: number, error?: string): Promise<void> {
  expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, `acquire ${pk}`);
  expect(await node.call('POST', `/v1/jobs/${pk}/start`, { send_notification: 'email' }), 200);
  expect(await node.call('POST', `/v1/jobs/${pk}/progress/0.5`, {}), 200, 'progress');
  expect(
    await node.call('POST', `/v1/jobs/${pk}/finish`, {
      success: error === undefined,
      send_notification: 'email',
      ...(error === undefined ? {} : { error }),
    }),
    200,
    `finish ${pk}`,
  );
}

for (const database of TEST_DATABASES) {
  describe(`UFDL meta templates and parent jobs (${database.name})`, () => {
    test('a parent follows its children: start, finish, error; children wait on siblings', async () => {
      const w = await startUfdl(database);
      try {
        const template = await metaTemplate(w);
        const parent = await createPipeline(w, template.pk);
        assert.equal(parent.parent, null);
        assert.equal(parent.template.name, 'pipeline');
        assert.deepEqual(parent.input_values, {
          'train:dataset': { value: 7, type: DATASET },
          'predict:dataset': { value: 8, type: DATASET },
        });
        assert.equal(parent.start_time, null);
        const [train, predict] = await childrenOf(w, parent.pk);
        assert.equal(train.parent, parent.pk);
        assert.equal(predict.parent, parent.pk);
        assert.equal(train.description, "child job 'train' of meta-job pipeline v1");
        assert.deepEqual(train.input_values, { dataset: { value: 7, type: DATASET } });
        assert.deepEqual(train.parameter_values, { epochs: { value: 3, type: 'int' } });

        const node = await registerNode(w);
        // The parent is not workable (UFDL's JobIsWorkable), and the launcher's poll skips it.
        expectDetail(await node.call('GET', `/v1/jobs/${parent.pk}/acquire`), 403, /permission/);
        const poll = expect(
          await node.call('POST', '/v1/jobs/list', {
            expressions: [
              { type: 'isnull', field: 'template.workabletemplate', invert: true },
              { type: 'isnull', field: 'start_time' },
            ],
          }),
          200,
        );
        assert.ok(!poll.some((j: any) => j.pk === parent.pk));
        // predict runs after train: it cannot be acquired yet.
        expect(await node.call('GET', `/v1/jobs/${predict.pk}/acquire`), 406, 'waiting child');

        expect(await node.call('GET', `/v1/jobs/${train.pk}/acquire`), 200, 'acquire train');
        expect(
          await node.call('POST', `/v1/jobs/${train.pk}/start`, { send_notification: 'e' }),
          200,
        );
        let p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.notEqual(p.start_time, null, 'the parent started with its first child');
        assert.equal(p.end_time, null);
        expect(
          await node.call('POST', `/v1/jobs/${train.pk}/finish`, {
            success: true,
            send_notification: 'e',
          }),
          200,
        );
        p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.equal(p.end_time, null, 'one child left: the parent is still started');
        assert.equal((await nativeJob(w, parent.pk)).state, 'RUNNING');

        await work(node, predict.pk, 'out of memory');
        p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.notEqual(p.end_time, null);
        assert.match(p.error_reason, /out of memory/);
        assert.match(p.error_reason, new RegExp(`child job ${predict.pk}`));
        assert.equal((await nativeJob(w, parent.pk)).state, 'FAILED');

        // A second family finishes when both children finish.
        const second = await createPipeline(w, template.pk);
        const [t2, p2] = await childrenOf(w, second.pk);
        await work(node, t2.pk);
        await work(node, p2.pk);
        const done = expect(await w.user.call('GET', `/v1/jobs/${second.pk}`), 200);
        assert.notEqual(done.end_time, null);
        assert.equal(done.error_reason, null);
        assert.equal((await nativeJob(w, second.pk)).state, 'COMPLETED');
      } finally {
        await w.close();
      }
    });

    test('cancelling the parent cancels its children; a child alone is 406', async () => {
      const w = await startUfdl(database);
      try {
        const template = await metaTemplate(w);
        const parent = await createPipeline(w, template.pk);
        const [train, predict] = await childrenOf(w, parent.pk);
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${train.pk}/acquire`), 200);
        expect(
          await node.call('POST', `/v1/jobs/${train.pk}/start`, { send_notification: 'e' }),
          200,
        );

        // A native action on the parent is that action on its children.
        const native = await nativeToken(w);
        const act = (action: string) =>
          w.t.request('POST', `/api/v1/jobs/${parent.pk}/${action}`, {}, native);
        expect(await act('suspend'), 200, 'suspend parent');
        assert.equal((await nativeJob(w, parent.pk)).state, 'SUSPENDED');
        assert.equal((await nativeJob(w, predict.pk)).state, 'SUSPENDED');
        expect(await act('resume'), 200, 'resume parent');
        assert.equal((await nativeJob(w, parent.pk)).state, 'QUEUED');
        // predict goes back to waiting on train, which is queued again.
        assert.equal((await nativeJob(w, predict.pk)).state, 'PENDING');
        expect(await node.call('GET', `/v1/jobs/${train.pk}/acquire`), 200);
        expect(
          await node.call('POST', `/v1/jobs/${train.pk}/start`, { send_notification: 'e' }),
          200,
        );

        expectDetail(
          await w.admin.call('DELETE', `/v1/jobs/${train.pk}/cancel`),
          406,
          new RegExp(`child of job ${parent.pk}`),
        );
        const cancelled = expect(await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/cancel`), 200);
        assert.equal(cancelled.is_cancelled, true);
        for (const child of [train, predict]) {
          const c = expect(await w.user.call('GET', `/v1/jobs/${child.pk}`), 200);
          assert.equal(c.is_cancelled, true, `child ${child.pk}`);
        }
        assert.equal((await nativeJob(w, parent.pk)).state, 'CANCELED');
        // Hard delete: the children first (UFDL's database refuses the parent before them).
        expect(await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/hard`), 406, 'parent first');
        for (const child of [train, predict]) {
          expect(await w.admin.call('DELETE', `/v1/jobs/${child.pk}/hard`), 200, 'child');
        }
        expect(await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/hard`), 200, 'hard');
        for (const pk of [parent.pk, train.pk, predict.pk]) {
          expectDetail(await w.user.call('GET', `/v1/jobs/${pk}`), 404, 'Not found.');
        }

        // Missing child input: UFDL's invalid_job_input; unknown child override: bad name.
        expectDetail(
          await w.user.call('POST', `/v1/job-templates/${template.pk}/create-job`, {
            input_values: { 'train:dataset': { value: 7, type: DATASET } },
          }),
          406,
          "Invalid job input 'predict:dataset': a value is required",
        );
        expectDetail(
          await w.user.call('POST', `/v1/job-templates/${template.pk}/create-job`, {
            input_values: {
              'train:dataset': { value: 7, type: DATASET },
              'predict:dataset': { value: 8, type: DATASET },
            },
            child_notification_overrides: { nope: { actions: {} } },
          }),
          400,
          /Bad descendant name 'nope'/,
        );
        // A composite type with a command of its own, or a child after one not before it.
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'bad',
            definition: { command: ['x'], children: [{ name: 'a', type: 'train' }] },
          }),
          400,
          /composite job type/,
        );
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'bad',
            definition: { children: [{ name: 'a', type: 'train', after: ['b'] }] },
          }),
          400,
          /after must list names of children before it/,
        );
        // Export and import again: the same composite type.
        const exported = expect(
          await w.admin.call('GET', `/v1/job-templates/${template.pk}/export`),
          200,
        );
        expect(
          await w.admin.call('POST', '/v1/job-templates/import', { ...exported, version: '2' }),
          200,
          're-import',
        );
      } finally {
        await w.close();
      }
    });
  });
}
