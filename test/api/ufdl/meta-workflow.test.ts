/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobType } from '../../../src/engine/job-types/job-types.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expect,
  expectDetail,
  nativeJob,
  registerNode,
  startUfdl,
  watch,
  type UfdlClient,
  type UfdlWorld,
} from './support.js';

/*
 * UFDL's meta-template workflow: a child's outputs become the inputs of the children that
 * depend on it (Drover's `inputsFrom`), the meta-job shows its finished children's outputs
 * as `child:name`, its watchers hear its own transitions (start, progress as the mean of its
 * children's, finish, error), it cannot be hard-deleted while its children remain, and meta
 * templates are shown with UFDL's common template fields only.
 */

const DATASET = 'PK<Dataset<Domain<Image Classification>>>';

/** train gives a model; predict takes a dataset and a model (the train child's output). */
async function pipeline(w: UfdlWorld, feedType?: string): Promise<any> {
  const ctx = w.t.engine.ctx;
  await createJobType(ctx, {
    name: 'train',
    definition: {
      command: ['echo', '{input.dataset}'],
      inputs: [{ name: 'dataset', type: 'integer' }],
      parameters: [{ name: 'epochs', type: 'integer', required: false }],
      outputs: [{ name: 'model', type: 'Model' }],
    },
  });
  await createJobType(ctx, {
    name: 'predict',
    definition: {
      command: ['echo', '{input.model}'],
      inputs: [
        { name: 'dataset', type: 'integer' },
        { name: 'model', type: 'string' },
      ],
    },
  });
  return expect(
    await w.admin.call('POST', '/v1/job-templates/import', {
      name: 'pipeline',
      version: '1',
      definition: {
        children: [
          { name: 'train', type: 'train' },
          {
            name: 'predict',
            type: 'predict',
            inputsFrom: {
              model: { child: 'train', output: 'model', ...(feedType ? { type: feedType } : {}) },
            },
          },
        ],
      },
    }),
    200,
    'import meta template',
  );
}

async function createPipeline(w: UfdlWorld, pk: number, extra: Record<string, unknown> = {}) {
  return expect(
    await w.user.call('POST', `/v1/job-templates/${pk}/create-job`, {
      input_values: {
        'train:dataset': { value: 7, type: DATASET },
        'predict:dataset': { value: 8, type: DATASET },
        ...extra,
      },
      description: 'a pipeline',
    }),
    200,
    'create-job',
  );
}

async function children(w: UfdlWorld, parent: number): Promise<any[]> {
  return expect(
    await w.user.call('POST', '/v1/jobs/list', {
      expressions: [{ type: 'exact', field: 'parent', value: parent }],
    }),
    200,
    'children',
  );
}

/** Works a job as UFDL's job launcher does, adding the outputs given before finishing. */
async function work(
  node: UfdlClient,
  pk: number,
  outputs: Record<string, string> = {},
  error?: string,
): Promise<void> {
  expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, `acquire ${pk}`);
  expect(await node.call('POST', `/v1/jobs/${pk}/start`, { send_notification: 'email' }), 200);
  expect(await node.call('POST', `/v1/jobs/${pk}/progress/0.5`, {}), 200, 'progress');
  for (const [name, type] of Object.entries(outputs)) {
    expect(await node.addOutput(pk, name, type, Buffer.from(`${name} of ${pk}`)), 200, 'output');
  }
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
  describe(`UFDL meta-template workflow (${database.name})`, () => {
    test("a child's outputs are its later siblings' inputs; the parent shows them", async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w, 'Model');
        // predict:model is not asked for: the train child's output gives it.
        const parent = await createPipeline(w, template.pk);
        const [train, predict] = await children(w, parent.pk);
        assert.deepEqual(Object.keys(predict.input_values), ['dataset']);

        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${predict.pk}/acquire`), 406, 'waits on train');
        await work(node, train.pk, { model: 'Model' });
        const trained = expect(await w.user.call('GET', `/v1/jobs/${train.pk}`), 200);
        const model = trained.outputs.find((o: any) => o.name === 'model');
        assert.ok(model, 'train has its model');

        // As UFDL's create_sub_job: the output's pk, typed job_output<T>.
        const fed = expect(await w.user.call('GET', `/v1/jobs/${predict.pk}`), 200);
        assert.deepEqual(fed.input_values.model, {
          value: String(model.pk),
          type: 'job_output<Model>',
        });
        assert.deepEqual(fed.input_values.dataset, { value: 8, type: DATASET });
        assert.equal((await nativeJob(w, predict.pk)).inputs.model, String(model.pk));

        // The meta-job shows its finished children's outputs as `child:name`.
        let p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.deepEqual(p.outputs, [{ pk: model.pk, name: 'train:model', type: 'Model' }]);
        const bytes = await w.user.call('GET', `/v1/jobs/${parent.pk}/outputs/train:model/Model`);
        assert.equal(bytes.status, 200);
        assert.equal(bytes.body, `model of ${train.pk}`);
        const info = expect(
          await w.user.call('GET', `/v1/jobs/${parent.pk}/outputs/train:model/Model/info`),
          200,
        );
        assert.equal(info.pk, model.pk);
        assert.equal(info.job, parent.pk);
        assert.equal(info.name, 'train:model');

        await work(node, predict.pk, { labels: 'Text' });
        p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.notEqual(p.end_time, null);
        assert.equal(p.error_reason, null);
        assert.deepEqual(
          p.outputs.map((o: any) => o.name),
          ['train:model', 'predict:labels'],
        );
      } finally {
        await w.close();
      }
    });

    test('a value given at create-job wins; a missing output fails the sibling and the parent', async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w);
        const node = await registerNode(w);

        const given = await createPipeline(w, template.pk, {
          'predict:model': { value: 'model-42', type: 'str' },
        });
        const [t1, p1] = await children(w, given.pk);
        await work(node, t1.pk, { model: 'Model' });
        const kept = expect(await w.user.call('GET', `/v1/jobs/${p1.pk}`), 200);
        assert.deepEqual(kept.input_values.model, { value: 'model-42', type: 'str' });

        // train produces no model: predict cannot run, so it fails and its parent with it.
        const parent = await createPipeline(w, template.pk);
        const [t2, p2] = await children(w, parent.pk);
        await work(node, t2.pk);
        const failed = await nativeJob(w, p2.pk);
        assert.equal(failed.state, 'FAILED');
        assert.match(
          failed.error.message,
          /input "model" takes output "model" of job \d+ \(train\)/,
        );
        const p = expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200);
        assert.notEqual(p.end_time, null);
        assert.match(p.error_reason, /did not produce/);
        expect(await node.call('GET', `/v1/jobs/${p2.pk}/acquire`), 406, 'failed child');

        // A composite type checks what it feeds: a known, earlier child.
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'bad',
            definition: {
              children: [
                { name: 'a', type: 'train' },
                { name: 'b', type: 'predict', inputsFrom: { model: { child: 'c', output: 'm' } } },
              ],
            },
          }),
          400,
          /inputsFrom.model.child must name a child before "b"/,
        );
      } finally {
        await w.close();
      }
    });

    test("the parent's watchers hear its start, its children's progress and its end", async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w);
        const parent = await createPipeline(w, template.pk);
        const [train, predict] = await children(w, parent.pk);
        const socket = await watch(w, parent.pk);
        const node = await registerNode(w);
        await work(node, train.pk, { model: 'Model' });
        await work(node, predict.pk);
        const messages = await socket.until(4);
        socket.close();
        assert.deepEqual(
          messages.map((m) => m.transition),
          ['start', 'progress', 'progress', 'finish'],
        );
        for (const m of messages) assert.equal(m.pk, parent.pk);
        // Progress is the mean of the children's (UFDL's _progress_meta).
        assert.deepEqual(messages[1].transition_data, { triggered_by: train.pk, progress: 0.5 });
        assert.equal(messages[1].progress, 0.25);
        assert.deepEqual(messages[2].transition_data, { triggered_by: predict.pk, progress: 0.5 });
        assert.equal(messages[2].progress, 0.75);
        assert.equal(messages[3].progress, 1);
        assert.equal('node' in messages[3], false, 'a meta-job has no node');

        // A child errors: its parent's watcher hears the error; on connect it is told again.
        const second = await createPipeline(w, template.pk);
        const [t2] = await children(w, second.pk);
        const erring = await watch(w, second.pk);
        await work(node, t2.pk, {}, 'out of memory');
        const heard = await erring.until(3);
        erring.close();
        assert.deepEqual(
          heard.map((m) => m.transition),
          ['start', 'progress', 'error'],
        );
        assert.match(heard[2].error, /out of memory/);
        const late = await watch(w, second.pk);
        const [last] = await late.until(1);
        late.close();
        assert.equal(last.transition, 'error');
      } finally {
        await w.close();
      }
    });

    test("a child's watcher hears only what its override keeps for a child", async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w);
        // on_start's websocket is suppressed for a child (the default); on_finish's is not.
        const parent = expect(
          await w.user.call('POST', `/v1/job-templates/${template.pk}/create-job`, {
            input_values: {
              'train:dataset': { value: 7, type: DATASET },
              'predict:dataset': { value: 8, type: DATASET },
            },
            child_notification_overrides: {
              train: { actions: { on_start: [{}], on_finish: [{ suppress_for_parent: false }] } },
            },
          }),
          200,
        );
        const [train] = await children(w, parent.pk);
        const socket = await watch(w, train.pk);
        const node = await registerNode(w);
        await work(node, train.pk, { model: 'Model' });
        const [first] = await socket.until(1);
        socket.close();
        // Messages leave in order: a start message would have come before the finish.
        assert.equal(first.transition, 'finish');
      } finally {
        await w.close();
      }
    });

    test('hard delete of a parent whose children remain is refused, as its database does', async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w);
        const parent = await createPipeline(w, template.pk);
        const [train, predict] = await children(w, parent.pk);
        expectDetail(
          await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/hard`),
          406,
          `Job ${parent.pk} is the parent of jobs ${train.pk}, ${predict.pk}: hard-delete its children first`,
        );
        expect(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 200, 'still there');
        assert.equal((await nativeJob(w, parent.pk)).deleted, false);
        expect(await w.admin.call('DELETE', `/v1/jobs/${predict.pk}/hard`), 200, 'one child');
        expectDetail(
          await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/hard`),
          406,
          `Job ${parent.pk} is the parent of job ${train.pk}: hard-delete its children first`,
        );
        expect(await w.admin.call('DELETE', `/v1/jobs/${train.pk}/hard`), 200, 'other child');
        const gone = expect(await w.admin.call('DELETE', `/v1/jobs/${parent.pk}/hard`), 200);
        assert.equal(gone.pk, parent.pk);
        expectDetail(await w.user.call('GET', `/v1/jobs/${parent.pk}`), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });

    test('meta templates: common fields only, their children parameters, no contract types', async () => {
      const w = await startUfdl(database);
      try {
        const template = await pipeline(w);
        const shown = expect(await w.user.call('GET', `/v1/job-templates/${template.pk}`), 200);
        assert.deepEqual(Object.keys(shown), [
          'pk',
          'name',
          'version',
          'description',
          'scope',
          'domain',
          'licence',
          'creator',
          'creation_time',
          'deletion_time',
        ]);
        assert.deepEqual(template, shown, 'import answers the same JSON');
        const metas = expect(
          await w.user.call('POST', '/v1/job-templates/list', {
            expressions: [{ type: 'isnull', field: 'workabletemplate' }],
          }),
          200,
        );
        assert.deepEqual(metas, [shown]);
        const workables = expect(
          await w.user.call('POST', '/v1/job-templates/list', {
            expressions: [{ type: 'isnull', field: 'metatemplate' }],
          }),
          200,
        );
        // Drover's built-in job types are workable templates too.
        assert.deepEqual(
          workables.map((t: any) => t.name).filter((n: string) => !n.includes('-')),
          ['train', 'predict'],
        );
        assert.ok(workables.every((t: any) => t.executor_class === ''));

        const parameters = expect(
          await w.user.call('GET', `/v1/job-templates/${template.pk}/get-all-parameters`),
          200,
        );
        assert.deepEqual(Object.keys(parameters), ['train:epochs']);
        for (const action of ['get-types', 'get-outputs']) {
          expectDetail(
            await w.user.call('GET', `/v1/job-templates/${template.pk}/${action}`),
            406,
            "Model should be of type 'WorkableTemplate' but was of type 'MetaTemplate'",
          );
        }
      } finally {
        await w.close();
      }
    });
  });
}
