/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  expectDetail,
  registerNode,
  startUfdl,
} from './support.js';

/*
 * Node destroy (UFDL's NodeViewSet: NodeIsSelf, or staff) and
 * /v1/job-types/get-all-values/{type} (GetAllValuesOfTypeViewSet).
 */

const enc = encodeURIComponent;

for (const database of TEST_DATABASES) {
  describe(`UFDL node destroy and get-all-values (${database.name})`, () => {
    test('a node destroys itself; others may not; one that worked a job stays (406)', async () => {
      const w = await startUfdl(database);
      try {
        const a = await registerNode(w, '10.1.0.1', 0);
        const b = await registerNode(w, '10.1.0.2', 0);
        // Another node, or a user without Node-Id, is not the node.
        expectDetail(await b.call('DELETE', `/v1/nodes/${a.nodeId}`), 403, /permission/);
        expectDetail(await w.user.call('DELETE', `/v1/nodes/${a.nodeId}`), 403, /permission/);
        expectDetail(await w.anonymous.call('DELETE', `/v1/nodes/${a.nodeId}`), 401, /credentials/);
        expectDetail(await w.admin.call('DELETE', '/v1/nodes/999999'), 404, 'Not found.');

        const self = await a.call('DELETE', `/v1/nodes/${a.nodeId}/`);
        expect(self, 204, 'destroy self');
        assert.equal(self.body, undefined);
        expectDetail(await w.admin.call('GET', `/v1/nodes/${a.nodeId}`), 404, 'Not found.');
        const listed = expect(await w.admin.call('POST', '/v1/nodes/list'), 200, 'list');
        assert.deepEqual(
          listed.map((n: any) => n.pk),
          [b.nodeId],
        );
        // The deleted id is no Node-Id any more.
        expectDetail(await a.call('GET', '/v1/nodes/ping'), 400, /No node with this primary-key/);

        // A node that worked a job: its history names it.
        const job = await createJob(w, await defineTemplate(w));
        expect(await b.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
        expect(await b.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'x' }), 200);
        expectDetail(await w.admin.call('DELETE', `/v1/nodes/${b.nodeId}`), 406, /has worked jobs/);
        expect(await w.admin.call('GET', `/v1/nodes/${b.nodeId}`), 200, 'still there');

        // Staff may destroy any node that never worked.
        const c = await registerNode(w, '10.1.0.3', 1);
        expect(await w.admin.call('DELETE', `/v1/nodes/${c.nodeId}`), 204, 'staff destroy');
        expectDetail(await w.admin.call('GET', `/v1/nodes/${c.nodeId}`), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });

    test('get-all-values lists job outputs of a type; other types as UFDL answers', async () => {
      const w = await startUfdl(database);
      try {
        const job = await createJob(w, await defineTemplate(w));
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
        expect(
          await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'x' }),
          200,
        );
        const model = expect(
          await node.addOutput(job.pk, 'model', 'Compressed<TextFile>', Buffer.from('m')),
          200,
        );
        expect(await node.addOutput(job.pk, 'log', 'str', Buffer.from('l')), 200);
        const other = expect(
          await node.addOutput(job.pk, 'old', 'Compressed<TextFile>', Buffer.from('o')),
          200,
        );
        expect(await w.admin.call('DELETE', `/v1/job-outputs/${other.pk}`), 204, 'soft delete');

        const url = (t: string) => `/v1/job-types/get-all-values/${enc(t)}`;
        const values = expect(
          await w.user.call('GET', url('JobOutput<Compressed<TextFile>>')),
          200,
        );
        assert.deepEqual(
          values.map((v: any) => [v.pk, v.job, v.name, v.type]),
          [[model.pk, job.pk, 'model', 'Compressed<TextFile>']],
        );
        assert.deepEqual(
          expect(
            await w.user.call(
              'GET',
              url("PretrainedModel<Domain<'Image Classification'>, Framework<'tf', '1'>>"),
            ),
            200,
          ),
          [],
        );
        expectDetail(
          await w.user.call('GET', url('int')),
          400,
          'int is not a server-resident type',
        );
        expectDetail(
          await w.user.call('GET', url('PK<Dataset<Domain<"x">>>')),
          400,
          /is not a server-resident type/,
        );
        expectDetail(await w.user.call('GET', url('JobOutput')), 400, 'JobOutput is abstract');
        expectDetail(await w.user.call('GET', url('NoSuch<int>')), 400, /Unknown type 'NoSuch'/);
        expectDetail(await w.user.call('GET', url('<<')), 400, /Couldn't parse/);
        expectDetail(await w.anonymous.call('GET', url('JobOutput<str>')), 401, /credentials/);
        expectDetail(
          await w.user.call('GET', url(`JobOutput<${'x'.repeat(2000)}>`)),
          400,
          /longer/,
        );
      } finally {
        await w.close();
      }
    });
  });
}
