import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  nativeToken,
  registerNode,
  startUfdl,
} from './support.js';

/* Seed 001, Jobs: Add Output, Get Output, Get Output Info, Delete Output. */

for (const database of TEST_DATABASES) {
  describe(`UFDL job outputs (${database.name})`, () => {
    test('add (raw bytes), get (bytes), info, delete (soft), as the Python client does', async () => {
      const w = await startUfdl(database);
      try {
        const job = await createJob(w, await defineTemplate(w));
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
        expect(
          await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
          200,
          'start',
        );
        const bytes = Buffer.from([0, 1, 2, 250, 255]);
        const info = expect(
          await node.addOutput(job.pk, 'model.tflite', 'Compressed<TextFile>', bytes),
          200,
          'add',
        );
        assert.deepEqual(Object.keys(info), [
          'pk',
          'job',
          'name',
          'type',
          'creator',
          'creation_time',
          'deletion_time',
        ]);
        assert.equal(info.job, job.pk);
        assert.equal(info.type, 'Compressed<TextFile>');
        assert.equal(info.deletion_time, null);

        const path = `/v1/jobs/${job.pk}/outputs/model.tflite/${encodeURIComponent('Compressed<TextFile>')}`;
        const res = await fetch(w.t.url + path, { headers: w.user.headers() });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'application/data');
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);

        assert.deepEqual(expect(await w.user.call('GET', `${path}/info`), 200, 'info'), info);
        const retrieved = expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'job');
        assert.deepEqual(retrieved.outputs, [
          { pk: info.pk, name: 'model.tflite', type: 'Compressed<TextFile>' },
        ]);

        // Natively, the output is the job's too.
        const native = expect(
          await w.t.request(
            'GET',
            `/api/v1/jobs/${job.pk}/outputs`,
            undefined,
            await nativeToken(w),
          ),
          200,
          'native outputs',
        );
        assert.equal(native.items[0].name, 'model.tflite');

        const deleted = expect(await w.admin.call('DELETE', path), 200, 'delete');
        assert.notEqual(deleted.deletion_time, null);
        // UFDL lists deleted outputs on the job, and the name stays taken.
        assert.equal(
          expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'job').outputs.length,
          1,
        );
        expect(
          await node.addOutput(job.pk, 'model.tflite', 'Compressed<TextFile>', bytes),
          400,
          're-add',
        );
        // Same name, another type, is another output.
        expect(await node.addOutput(job.pk, 'model.tflite', 'str', bytes), 200, 'other type');
      } finally {
        await w.close();
      }
    });

    test('an errored job still takes outputs; a finished one does not', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const node = await registerNode(w);
        for (const error of ['boom', undefined]) {
          const job = await createJob(w, tpl);
          expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
          expect(
            await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
            200,
            'start',
          );
          expect(
            await node.call('POST', `/v1/jobs/${job.pk}/finish`, {
              success: error === undefined,
              send_notification: 'email',
              ...(error ? { error } : {}),
            }),
            200,
            'finish',
          );
          const res = await node.addOutput(job.pk, 'log', 'str', Buffer.from('late'));
          expect(res, error ? 200 : 406, `add after finish ${error ?? 'ok'}`);
        }
      } finally {
        await w.close();
      }
    });
  });
}
