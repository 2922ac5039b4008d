/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addOutput } from '../../../src/engine/outputs/outputs.js';
import { liveExecutionsOfJob } from '../../../src/store/executions.js';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  expectDetail,
  nativeToken,
  registerNode,
  startUfdl,
  type UfdlClient,
  type UfdlWorld,
} from './support.js';

/*
 * /v1/job-outputs (UFDL's JobOutputViewSet): list with a FilterSpec, retrieve, destroy
 * (soft), hard delete, reinstate and download, as UFDL's clients call them: the Python
 * client's list sends no body, download POSTs a JSON body (the TypeScript client's
 * `{filetype, ...params}`), hard and reinstate are DELETEs.
 */

const MODEL = Buffer.from([0, 1, 2, 250, 255]);

/** A started job with two outputs added by its node, as the job launcher adds them. */
async function jobWithOutputs(
  w: UfdlWorld,
): Promise<{ job: any; node: UfdlClient; model: any; log: any }> {
  const job = await createJob(w, await defineTemplate(w));
  const node = await registerNode(w);
  expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
  expect(
    await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
    200,
    'start',
  );
  const model = expect(
    await node.addOutput(job.pk, 'model.tflite', 'Compressed<TextFile>', MODEL),
    200,
    'add model',
  );
  const log = expect(
    await node.addOutput(job.pk, 'log', 'str', Buffer.from('epoch 1\n')),
    200,
    'add log',
  );
  return { job, node, model, log };
}

async function download(w: UfdlWorld, client: UfdlClient, pk: number, body?: unknown) {
  if (!client.access) await client.login();
  const res = await fetch(`${w.t.url}/v1/job-outputs/${pk}/download`, {
    method: 'POST',
    headers: client.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function nativeOutputs(w: UfdlWorld, jobPk: number): Promise<any[]> {
  const res = await w.t.request(
    'GET',
    `/api/v1/jobs/${jobPk}/outputs`,
    undefined,
    await nativeToken(w),
  );
  return expect(res, 200, 'native outputs').items;
}

for (const database of TEST_DATABASES) {
  describe(`UFDL /v1/job-outputs (${database.name})`, () => {
    test('list (no body, FilterSpec, order), retrieve, as the Python client asks', async () => {
      const w = await startUfdl(database);
      try {
        const { job, model, log } = await jobWithOutputs(w);
        const all = expect(await w.user.call('POST', '/v1/job-outputs/list'), 200, 'list');
        assert.deepEqual(all, [model, log]);
        assert.deepEqual(Object.keys(all[0]), [
          'pk',
          'job',
          'name',
          'type',
          'creator',
          'creation_time',
          'deletion_time',
        ]);
        assert.equal(all[0].job, job.pk);

        const typed = expect(
          await w.user.call('POST', '/v1/job-outputs/list/', {
            expressions: [{ type: 'exact', field: 'type', value: 'str' }],
          }),
          200,
          'filtered',
        );
        assert.deepEqual(
          typed.map((o: any) => o.pk),
          [log.pk],
        );
        const byJob = expect(
          await w.user.call('POST', '/v1/job-outputs/list', {
            expressions: [
              { type: 'exact', field: 'job.pk', value: job.pk },
              { type: 'contains', field: 'name', sub_string: 'MODEL', case_insensitive: true },
            ],
          }),
          200,
          'by job and name',
        );
        assert.deepEqual(
          byJob.map((o: any) => o.pk),
          [model.pk],
        );
        const ordered = expect(
          await w.user.call('POST', '/v1/job-outputs/list', {
            order_by: [{ field: 'name', ascending: false }],
          }),
          200,
          'ordered',
        );
        assert.deepEqual(
          ordered.map((o: any) => o.name),
          ['model.tflite', 'log'],
        );
        expectDetail(
          await w.user.call('POST', '/v1/job-outputs/list', {
            expressions: [{ type: 'exact', field: 'size', value: 5 }],
          }),
          400,
          /Cannot resolve keyword 'size' into field/,
        );
        expectDetail(
          await w.user.call('POST', '/v1/job-outputs/list', { limit: 3 }),
          400,
          /^Unable to parse JSON: Additional properties are not allowed \('limit' was unexpected\)/,
        );
        expectDetail(
          await w.user.call('GET', '/v1/job-outputs/list'),
          405,
          'Method "GET" not allowed.',
        );

        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 200, 'retrieve'),
          model,
        );
        expectDetail(await w.user.call('GET', '/v1/job-outputs/99999'), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });

    test('download: POST, raw bytes as application/data, the body checked', async () => {
      const w = await startUfdl(database);
      try {
        const { model, log } = await jobWithOutputs(w);
        for (const body of [undefined, {}, { filetype: 'tflite' }, { params: {} }]) {
          const { res, bytes } = await download(w, w.user, model.pk, body);
          assert.equal(res.status, 200, JSON.stringify(body));
          assert.equal(res.headers.get('content-type'), 'application/data');
          assert.equal(res.headers.get('content-disposition'), 'attachment; filename=model.tflite');
          assert.deepEqual(bytes, MODEL);
        }
        const text = await download(w, w.user, log.pk, {});
        assert.equal(text.bytes.toString(), 'epoch 1\n');

        const zip = await download(w, w.user, model.pk, { filetype: 'zip' });
        assert.equal(zip.res.status, 415);
        assert.deepEqual(JSON.parse(zip.bytes.toString()), {
          detail: 'Unsupported media type "zip" in request.',
        });
        expectDetail(
          await w.user.call('POST', `/v1/job-outputs/${model.pk}/download`, { filetype: 3 }),
          400,
          "The type passed to download parameter 'filetype' should be 'string', but received 3",
        );
        expectDetail(
          await w.user.call('POST', `/v1/job-outputs/${model.pk}/download`, { params: ['x'] }),
          400,
          /^The type passed to download parameter 'params' should be 'mapping from strings to strings\/arrays of strings'/,
        );
        expectDetail(
          await w.user.call('POST', `/v1/job-outputs/${model.pk}/download`, {
            params: { scale: '2' },
          }),
          400,
          /^Bad value for download parameter 'params'/,
        );
        expectDetail(
          await w.user.call('GET', `/v1/job-outputs/${model.pk}/download`),
          405,
          'Method "GET" not allowed.',
        );
        expectDetail(
          await w.user.call('POST', '/v1/job-outputs/99999/download', {}),
          404,
          'Not found.',
        );
      } finally {
        await w.close();
      }
    });

    test('destroy (204) soft-deletes as delete-by-name does; reinstate takes it back', async () => {
      const w = await startUfdl(database);
      try {
        const { job, model, log } = await jobWithOutputs(w);
        const destroyed = await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}`);
        expect(destroyed, 204, 'destroy');
        assert.equal(destroyed.body, undefined);

        // Hidden from the list, found by retrieve, still on the job and still readable.
        const listed = expect(await w.user.call('POST', '/v1/job-outputs/list'), 200, 'list');
        assert.deepEqual(
          listed.map((o: any) => o.pk),
          [log.pk],
        );
        const inactive = expect(
          await w.user.call('POST', '/v1/job-outputs/list', { include_inactive: true }),
          200,
          'include_inactive',
        );
        assert.deepEqual(
          inactive.map((o: any) => o.pk),
          [model.pk, log.pk],
        );
        const info = expect(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 200, 'info');
        assert.notEqual(info.deletion_time, null);
        const byName = expect(
          await w.user.call(
            'GET',
            `/v1/jobs/${job.pk}/outputs/model.tflite/${encodeURIComponent('Compressed<TextFile>')}/info`,
          ),
          200,
          'info by name',
        );
        assert.deepEqual(byName, info);
        assert.equal(
          expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'job').outputs.length,
          2,
        );
        assert.deepEqual((await download(w, w.user, model.pk)).bytes, MODEL);
        // Natively a deleted output is gone.
        assert.deepEqual(
          (await nativeOutputs(w, job.pk)).map((o) => o.id),
          [log.pk],
        );
        expect(
          await w.t.request(
            'GET',
            `/api/v1/outputs/${model.pk}/content`,
            undefined,
            await nativeToken(w),
          ),
          404,
          'native content',
        );
        // Destroying again changes nothing.
        w.t.clock.advance(60_000);
        expect(await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/`), 204, 'again');
        assert.equal(
          expect(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 200, 'info')
            .deletion_time,
          info.deletion_time,
        );

        const back = expect(
          await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/reinstate`),
          200,
          'reinstate',
        );
        assert.deepEqual(back, { ...model, deletion_time: null });
        assert.deepEqual(
          (await nativeOutputs(w, job.pk)).map((o) => o.id).sort(),
          [model.pk, log.pk].sort(),
        );
        // Reinstating a live output is a no-op.
        assert.deepEqual(
          expect(
            await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/reinstate/`),
            200,
            'again',
          ),
          back,
        );
      } finally {
        await w.close();
      }
    });

    test('an output a later upload replaced cannot be reinstated (406)', async () => {
      const w = await startUfdl(database);
      try {
        const { job, node, model } = await jobWithOutputs(w);
        expect(await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}`), 204, 'destroy');
        // The node's native upload of the same name and type replaces it.
        const [execution] = await liveExecutionsOfJob(w.t.engine.ctx.db, job.pk);
        const newer = await addOutput(w.t.engine.ctx, execution!.id, node.nodeId, {
          name: 'model.tflite',
          type: 'Compressed<TextFile>',
          content: Buffer.from('v2'),
        });
        expectDetail(
          await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/reinstate`),
          406,
          `Job output ${model.pk} cannot be reinstated: job ${job.pk} has a newer output ${newer.id} by this name/type (model.tflite/Compressed<TextFile>)`,
        );
        assert.notEqual(
          expect(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 200, 'info')
            .deletion_time,
          null,
        );
      } finally {
        await w.close();
      }
    });

    test('hard delete answers the output as it was and removes it with its bytes', async () => {
      const w = await startUfdl(database);
      try {
        const { job, model, log } = await jobWithOutputs(w);
        const modelBlob = await blobOf(w, model.pk);
        const gone = expect(
          await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/hard`),
          200,
          'hard',
        );
        assert.equal(gone.pk, model.pk);
        assert.equal(gone.name, 'model.tflite');
        assert.notEqual(gone.deletion_time, null);
        expectDetail(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 404, 'Not found.');
        expectDetail(
          await w.admin.call('DELETE', `/v1/job-outputs/${model.pk}/hard`),
          404,
          'Not found.',
        );
        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'job').outputs,
          [{ pk: log.pk, name: 'log', type: 'str' }],
        );
        assert.deepEqual(
          (await nativeOutputs(w, job.pk)).map((o) => o.id),
          [log.pk],
        );
        const blobs = await w.t.engine.ctx.db
          .selectFrom('blobs')
          .select('id')
          .where('id', 'in', [modelBlob, await blobOf(w, log.pk)])
          .execute();
        assert.deepEqual(
          blobs.map((b) => Number(b.id)),
          [await blobOf(w, log.pk)],
          'the bytes went with the output; the other output keeps its own',
        );
        // With the output gone, its name and type are free again.
        const node = await registerNode(w);
        expect(
          await node.addOutput(job.pk, 'model.tflite', 'Compressed<TextFile>', MODEL),
          200,
          're-add',
        );
      } finally {
        await w.close();
      }
    });

    test('permissions: 401 without a token, 403 for non-staff, create and update AllowNone', async () => {
      const w = await startUfdl(database);
      try {
        const { model } = await jobWithOutputs(w);
        const anon = await w.anonymous.call('POST', '/v1/job-outputs/list');
        expectDetail(anon, 401, 'Authentication credentials were not provided.');
        assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="api"');
        expectDetail(
          await w.anonymous.call('GET', `/v1/job-outputs/${model.pk}`),
          401,
          'Authentication credentials were not provided.',
        );
        expectDetail(
          await w.anonymous.call('POST', `/v1/job-outputs/${model.pk}/download`, {}),
          401,
          'Authentication credentials were not provided.',
        );
        const denied = 'You do not have permission to perform this action.';
        for (const path of [
          `/v1/job-outputs/${model.pk}`,
          `/v1/job-outputs/${model.pk}/hard`,
          `/v1/job-outputs/${model.pk}/reinstate`,
        ]) {
          expectDetail(await w.user.call('DELETE', path), 403, denied, path);
        }
        // UFDL gives no one create or update, staff included.
        for (const client of [w.user, w.admin]) {
          expectDetail(
            await client.call('POST', '/v1/job-outputs/create', { name: 'x' }),
            403,
            denied,
          );
          expectDetail(
            await client.call('PATCH', `/v1/job-outputs/${model.pk}`, { name: 'x' }),
            403,
            denied,
          );
          expectDetail(
            await client.call('PUT', `/v1/job-outputs/${model.pk}`, { name: 'x' }),
            403,
            denied,
          );
        }
        // Nothing changed.
        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/job-outputs/${model.pk}`), 200, 'retrieve'),
          model,
        );
      } finally {
        await w.close();
      }
    });
  });
}

async function blobOf(w: UfdlWorld, outputId: number): Promise<number> {
  const row = await w.t.engine.ctx.db
    .selectFrom('outputs')
    .select('blob_id')
    .where('id', '=', outputId)
    .executeTakeFirstOrThrow();
  return Number(row.blob_id);
}
