/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  nativeJob,
  nativeToken,
  registerNode,
  startUfdl,
  type UfdlWorld,
} from './support.js';

/*
 * Seed 001, Jobs: List, Retrieve, Update, Partial Update, Destroy, Hard Delete, Reinstate
 * and Cancel, as the Python client sends them (reference §12), each checked through the
 * native API as well.
 */

const JOB_KEYS = [
  'pk',
  'template',
  'parent',
  'start_time',
  'end_time',
  'error_reason',
  'input_values',
  'parameter_values',
  'node',
  'outputs',
  'description',
  'is_cancelled',
  'creator',
  'creation_time',
  'deletion_time',
];

for (const database of TEST_DATABASES) {
  describe(`UFDL jobs (${database.name})`, () => {
    const withWorld = (name: string, fn: (w: UfdlWorld, tpl: number) => Promise<void>) =>
      test(name, async () => {
        const w = await startUfdl(database);
        try {
          await fn(w, await defineTemplate(w));
        } finally {
          await w.close();
        }
      });

    withWorld('list: no body lists every active job as a plain array', async (w, tpl) => {
      const a = await createJob(w, tpl);
      const b = await createJob(w, tpl, { description: 'second' });
      // The Python client sends no body and no Content-Type when unfiltered.
      const list = expect(await w.user.call('POST', '/v1/jobs/list'), 200, 'list');
      assert.ok(Array.isArray(list));
      assert.deepEqual(
        list.map((j: any) => j.pk),
        [a.pk, b.pk],
      );
      assert.deepEqual(Object.keys(list[0]), JOB_KEYS);
      // Trailing slash is optional.
      expect(await w.user.call('POST', '/v1/jobs/list/'), 200, 'list with slash');
    });

    withWorld(
      'list: exact, contains, isnull, compare, and, or, invert, order_by, include_inactive',
      async (w, tpl) => {
        const a = await createJob(w, tpl, { description: 'Alpha run' });
        const b = await createJob(w, tpl, { description: 'beta run' });
        const c = await createJob(w, tpl, { description: 'gamma' });
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${b.pk}/acquire`), 200, 'acquire');
        expect(await w.admin.call('DELETE', `/v1/jobs/${c.pk}`), 204, 'destroy');
        const pks = async (spec: unknown) =>
          (
            expect(
              await w.user.call('POST', '/v1/jobs/list', spec),
              200,
              JSON.stringify(spec),
            ) as any[]
          ).map((j) => j.pk);
        assert.deepEqual(
          await pks({ expressions: [{ type: 'exact', field: 'pk', value: a.pk }] }),
          [a.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [
              { type: 'exact', field: 'description', value: 'alpha RUN', case_insensitive: true },
            ],
          }),
          [a.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [{ type: 'contains', field: 'description', sub_string: 'run' }],
          }),
          [a.pk, b.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [{ type: 'contains', field: 'description', sub_string: 'ALPHA' }],
          }),
          [],
          'contains is case-sensitive unless asked',
        );
        assert.deepEqual(await pks({ expressions: [{ type: 'isnull', field: 'node' }] }), [a.pk]);
        assert.deepEqual(
          await pks({ expressions: [{ type: 'isnull', field: 'node', invert: true }] }),
          [b.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [{ type: 'compare', field: 'pk', operator: '>', value: a.pk }],
          }),
          [b.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [
              {
                type: 'compare',
                field: 'creation_time',
                operator: '>=',
                value: '2020-01-01T00:00:00Z',
              },
            ],
          }),
          [a.pk, b.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [
              {
                type: 'or',
                sub_expressions: [
                  { type: 'exact', field: 'pk', value: a.pk },
                  {
                    type: 'and',
                    sub_expressions: [
                      { type: 'exact', field: 'template.name', value: 'train' },
                      { type: 'exact', field: 'node', value: node.nodeId },
                    ],
                  },
                ],
              },
            ],
          }),
          [a.pk, b.pk],
        );
        assert.deepEqual(await pks({ order_by: [{ field: 'pk', ascending: false }] }), [
          b.pk,
          a.pk,
        ]);
        assert.deepEqual(await pks({ include_inactive: true }), [a.pk, b.pk, c.pk]);
        assert.deepEqual(
          await pks({
            expressions: [{ type: 'isnull', field: 'deletion_time', invert: true }],
            include_inactive: true,
          }),
          [c.pk],
        );
        assert.deepEqual(
          await pks({
            expressions: [{ type: 'exact', field: 'creator.username', value: 'alice' }],
          }),
          [a.pk, b.pk],
        );
      },
    );

    withWorld('retrieve: the job JSON; a soft-deleted job is still found', async (w, tpl) => {
      const job = await createJob(w, tpl);
      const got = expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'retrieve');
      assert.deepEqual(got, job);
      assert.deepEqual(got.template, { pk: tpl, name: 'train', version: 1 });
      assert.deepEqual(got.input_values.dataset, {
        value: 7,
        type: 'PK<Dataset<Domain<Image Classification>>>',
      });
      expect(await w.admin.call('DELETE', `/v1/jobs/${job.pk}`), 204, 'destroy');
      assert.notEqual(
        expect(await w.user.call('GET', `/v1/jobs/${job.pk}/`), 200, 'retrieve deleted')
          .deletion_time,
        null,
      );
    });

    withWorld(
      'update and partial update change the description (the Drover comment)',
      async (w, tpl) => {
        const job = await createJob(w, tpl);
        const put = expect(
          await w.admin.call('PUT', `/v1/jobs/${job.pk}`, { description: 'new' }),
          200,
          'put',
        );
        assert.equal(put.description, 'new');
        const patch = expect(
          await w.admin.call('PATCH', `/v1/jobs/${job.pk}`, { description: 'newer', node: 5 }),
          200,
          'patch',
        );
        assert.equal(patch.description, 'newer');
        assert.equal(patch.node, null, 'read-only fields are ignored');
        assert.equal((await nativeJob(w, job.pk)).comment, 'newer');
        const missing = await w.admin.call('PUT', `/v1/jobs/${job.pk}`, {});
        expect(missing, 400, 'put without description');
        assert.deepEqual(missing.body, { description: ['This field is required.'] });
      },
    );

    withWorld(
      'destroy: 204 with no body; hidden from lists and from the native list',
      async (w, tpl) => {
        const job = await createJob(w, tpl);
        const res = await w.admin.call('DELETE', `/v1/jobs/${job.pk}`);
        expect(res, 204, 'destroy');
        assert.equal(res.body, undefined);
        assert.deepEqual(expect(await w.user.call('POST', '/v1/jobs/list'), 200, 'list'), []);
        const native = await nativeJob(w, job.pk);
        assert.ok(native.deletedAt, 'deleted natively too');
      },
    );

    withWorld('reinstate (a DELETE) undeletes', async (w, tpl) => {
      const job = await createJob(w, tpl);
      expect(await w.admin.call('DELETE', `/v1/jobs/${job.pk}`), 204, 'destroy');
      const back = expect(
        await w.admin.call('DELETE', `/v1/jobs/${job.pk}/reinstate`),
        200,
        'reinstate',
      );
      assert.equal(back.deletion_time, null);
      assert.equal((await nativeJob(w, job.pk)).deletedAt, null);
      expect(
        await w.admin.call('DELETE', `/v1/jobs/${job.pk}/reinstate`),
        200,
        'reinstate again is a no-op',
      );
    });

    withWorld('hard delete removes the job for good', async (w, tpl) => {
      const job = await createJob(w, tpl);
      const gone = expect(await w.admin.call('DELETE', `/v1/jobs/${job.pk}/hard`), 200, 'hard');
      assert.equal(gone.pk, job.pk);
      expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 404, 'retrieve after hard delete');
      expect(
        await w.t.request('GET', `/api/v1/jobs/${job.pk}`, undefined, await nativeToken(w)),
        404,
        'native',
      );
    });

    withWorld(
      'cancel: CANCELED natively, is_cancelled, error_reason "Cancelled"; again is a no-op',
      async (w, tpl) => {
        const job = await createJob(w, tpl);
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
        expect(
          await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
          200,
          'start',
        );
        const cancelled = expect(
          await w.admin.call('DELETE', `/v1/jobs/${job.pk}/cancel`),
          200,
          'cancel',
        );
        assert.equal(cancelled.is_cancelled, true);
        assert.equal(cancelled.error_reason, 'Cancelled');
        assert.equal(cancelled.end_time, null);
        assert.notEqual(cancelled.start_time, null);
        assert.equal(cancelled.node, node.nodeId, 'the node stays');
        assert.equal((await nativeJob(w, job.pk)).state, 'CANCELED');
        expect(await w.admin.call('DELETE', `/v1/jobs/${job.pk}/cancel`), 200, 'cancel again');
        // The launcher notices by polling retrieve, then finishes: 200 and nothing changes.
        const finished = expect(
          await node.call('POST', `/v1/jobs/${job.pk}/finish`, {
            success: true,
            send_notification: 'email',
          }),
          200,
          'finish after cancel',
        );
        assert.equal(finished.is_cancelled, true);
      },
    );

    withWorld('a job submitted through the native API shows here', async (w) => {
      const res = await w.t.request(
        'POST',
        '/api/v1/jobs',
        { type: 'command-line', parameters: { executable: 'echo' }, comment: 'native' },
        await nativeToken(w),
      );
      const id = expect(res, 201, 'native submit').id;
      const job = expect(await w.user.call('GET', `/v1/jobs/${id}`), 200, 'retrieve');
      assert.equal(job.description, 'native');
      assert.equal(job.template.name, 'command-line');
      assert.deepEqual(job.parameter_values.executable, { value: 'echo', type: 'str' });
    });
  });
}
