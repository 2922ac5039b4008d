/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  expectDetail,
  nativeToken,
  startUfdl,
  type UfdlWorld,
} from './support.js';

/*
 * /v1/job-templates beyond list, retrieve and create-job: get-all-parameters, get-types,
 * get-outputs, get-all-matching-templates/{contract}, destroy, hard delete, reinstate,
 * import and export, called as UFDL's clients call them (GETs, DELETEs for the soft-delete
 * actions, a JSON body for import).
 */

async function nativeType(w: UfdlWorld, id: number) {
  return w.t.request('GET', `/api/v1/job-types/${id}`, undefined, await nativeToken(w));
}

/** A job type with a declared output, defined through the native API. */
async function typeWithOutputs(w: UfdlWorld): Promise<number> {
  const res = await w.t.request(
    'POST',
    '/api/v1/job-types',
    {
      name: 'render',
      definition: {
        command: ['render', '{input.scene}'],
        inputs: [{ name: 'scene', type: 'file', multiple: true }],
        parameters: [{ name: 'quality', type: 'number', description: '0 to 1' }],
        outputs: [{ name: 'frames', type: 'image/png', pattern: '*.png' }],
      },
    },
    await nativeToken(w),
  );
  return expect(res, 201, 'native job type').id;
}

for (const database of TEST_DATABASES) {
  describe(`UFDL job-template actions (${database.name})`, () => {
    test('get-all-parameters, get-types, get-outputs describe the job type', async () => {
      const w = await startUfdl(database);
      try {
        const train = await defineTemplate(w);
        assert.deepEqual(
          expect(
            await w.user.call('GET', `/v1/job-templates/${train}/get-all-parameters`),
            200,
            'parameters',
          ),
          {
            epochs: {
              types: { int: { type: 'integer' } },
              help: '',
              default: { value: null, type: 'int', schema: { type: 'integer' }, const: false },
            },
          },
        );
        const render = await typeWithOutputs(w);
        assert.deepEqual(
          expect(
            await w.user.call('GET', `/v1/job-templates/${render}/get-all-parameters`),
            200,
            'required parameter',
          ),
          { quality: { types: { float: { type: 'number' } }, help: '0 to 1' } },
        );
        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/job-templates/${render}/get-types`), 200, 'types'),
          {},
        );
        for (const path of ['get-outputs', 'get-outputs/']) {
          assert.deepEqual(
            expect(await w.user.call('GET', `/v1/job-templates/${render}/${path}`), 200, path),
            { frames: 'image/png' },
          );
        }
        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/job-templates/${train}/get-outputs`), 200, 'none'),
          {},
        );
        // As UFDL's routes, these two take no trailing slash.
        expectDetail(
          await w.user.call('GET', `/v1/job-templates/${render}/get-types/`),
          404,
          'Not found.',
        );
        expectDetail(
          await w.user.call('GET', `/v1/job-templates/${render}/get-all-parameters/`),
          404,
          'Not found.',
        );
        expectDetail(
          await w.user.call('GET', '/v1/job-templates/999/get-all-parameters'),
          404,
          'Not found.',
        );
        expectDetail(
          await w.anonymous.call('GET', `/v1/job-templates/${render}/get-outputs`),
          401,
          'Authentication credentials were not provided.',
        );
      } finally {
        await w.close();
      }
    });

    test('get-all-matching-templates: the contract and input names are checked', async () => {
      const w = await startUfdl(database);
      try {
        await defineTemplate(w);
        const base = '/v1/job-templates/get-all-matching-templates';
        assert.deepEqual(expect(await w.user.call('GET', `${base}/Train`), 200, 'train'), []);
        const dataset = encodeURIComponent("PK<Dataset<Domain<'Image Classification'>>>");
        assert.deepEqual(
          expect(await w.user.call('GET', `${base}/Predict?dataset=${dataset}`), 200, 'typed'),
          [],
        );
        expectDetail(
          await w.user.call('GET', `${base}/Train?model=int`),
          400,
          "Bad name 'model': Not an input to Train",
        );
        expectDetail(
          await w.user.call('GET', `${base}/Fit`),
          400,
          "Bad name 'Fit': Unknown contract name",
        );
        expectDetail(
          await w.user.call('GET', `${base}/Train?dataset=image%2Fpng`),
          400,
          "Couldn't parse type string 'image/png'",
        );
        expectDetail(
          await w.anonymous.call('GET', `${base}/Train`),
          401,
          'Authentication credentials were not provided.',
        );
      } finally {
        await w.close();
      }
    });

    test('destroy (204) hides the template and stops create-job; reinstate undoes it', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        expectDetail(
          await w.user.call('DELETE', `/v1/job-templates/${tpl}`),
          403,
          'You do not have permission to perform this action.',
        );
        const res = await w.admin.call('DELETE', `/v1/job-templates/${tpl}`);
        expect(res, 204, 'destroy');
        assert.equal(res.body, undefined);

        const listed = expect(await w.user.call('POST', '/v1/job-templates/list'), 200, 'list');
        assert.ok(!listed.some((t: any) => t.pk === tpl));
        const inactive = expect(
          await w.user.call('POST', '/v1/job-templates/list', { include_inactive: true }),
          200,
          'include_inactive',
        );
        const deleted = inactive.find((t: any) => t.pk === tpl);
        assert.notEqual(deleted.deletion_time, null);
        assert.deepEqual(
          expect(await w.user.call('GET', `/v1/job-templates/${tpl}`), 200, 'retrieve'),
          deleted,
        );
        expectDetail(
          await w.user.call('POST', `/v1/job-templates/${tpl}/create-job`, {
            input_values: { dataset: { value: 1, type: 'int' } },
          }),
          406,
          'Job template train v1 is deleted: reinstate it to create jobs from it',
        );
        const native = expect(await nativeType(w, tpl), 200, 'native');
        assert.equal(native.active, false);
        const refused = await w.t.request(
          'POST',
          '/api/v1/jobs',
          { type: native.name, typeVersion: native.version },
          await nativeToken(w),
        );
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(
          refused.body.message,
          `job type "${native.name}" version ${native.version} is inactive; reactivate it to submit jobs of it`,
        );
        // Deleting again keeps the first deletion time.
        w.t.clock.advance(60_000);
        expect(await w.admin.call('DELETE', `/v1/job-templates/${tpl}/`), 204, 'again');
        assert.equal(
          expect(await w.user.call('GET', `/v1/job-templates/${tpl}`), 200, 'retrieve')
            .deletion_time,
          deleted.deletion_time,
        );

        expectDetail(
          await w.user.call('DELETE', `/v1/job-templates/${tpl}/reinstate`),
          403,
          'You do not have permission to perform this action.',
        );
        const back = expect(
          await w.admin.call('DELETE', `/v1/job-templates/${tpl}/reinstate`),
          200,
          'reinstate',
        );
        assert.deepEqual(back, { ...deleted, deletion_time: null });
        assert.equal(expect(await nativeType(w, tpl), 200, 'native').active, true);
        await createJob(w, tpl);
      } finally {
        await w.close();
      }
    });

    test('hard delete removes a job type without jobs; one with jobs or built in stays', async () => {
      const w = await startUfdl(database);
      try {
        const used = await defineTemplate(w, 'used');
        const job = await createJob(w, used);
        expectDetail(
          await w.admin.call('DELETE', `/v1/job-templates/${used}/hard`),
          406,
          'job type used 1 has jobs; delete and purge them first',
        );
        assert.equal(expect(await nativeType(w, used), 200, 'kept').active, true);

        const builtin = expect(
          await w.user.call('POST', '/v1/job-templates/list'),
          200,
          'list',
        ).find((t: any) => t.name === 'command-line').pk;
        expectDetail(
          await w.admin.call('DELETE', `/v1/job-templates/${builtin}/hard`),
          406,
          'job type command-line 1 is built in',
        );
        expectDetail(
          await w.user.call('DELETE', `/v1/job-templates/${used}/hard`),
          403,
          'You do not have permission to perform this action.',
        );

        const spare = await defineTemplate(w, 'spare');
        const before = expect(await w.user.call('GET', `/v1/job-templates/${spare}`), 200, 'get');
        const gone = expect(
          await w.admin.call('DELETE', `/v1/job-templates/${spare}/hard`),
          200,
          'hard',
        );
        assert.deepEqual({ ...gone, deletion_time: null }, before);
        assert.notEqual(gone.deletion_time, null);
        expectDetail(await w.user.call('GET', `/v1/job-templates/${spare}`), 404, 'Not found.');
        expect(await nativeType(w, spare), 404, 'native gone');
        // The job of the other type is untouched.
        expect(await w.user.call('GET', `/v1/jobs/${job.pk}`), 200, 'job');
      } finally {
        await w.close();
      }
    });

    test('export and import carry Drover job-type documents (admin only)', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        expectDetail(
          await w.user.call('GET', `/v1/job-templates/${tpl}/export`),
          403,
          'You do not have permission to perform this action.',
        );
        const document = expect(
          await w.admin.call('GET', `/v1/job-templates/${tpl}/export`),
          200,
          'export',
        );
        assert.deepEqual(Object.keys(document), [
          'name',
          'version',
          'title',
          'description',
          'category',
          'definition',
        ]);
        assert.equal(document.name, 'train');
        assert.equal(document.version, '1');
        assert.deepEqual(document.definition.inputs, [
          { name: 'dataset', type: 'integer', required: true },
        ]);

        // Without a version: the next version of the name, a new template.
        const unversioned = { ...document, version: undefined };
        expectDetail(
          await w.user.call('POST', '/v1/job-templates/import', unversioned),
          403,
          'You do not have permission to perform this action.',
        );
        const v2 = expect(
          await w.admin.call('POST', '/v1/job-templates/import', {
            ...unversioned,
            description: 'second',
          }),
          200,
          'import v2',
        );
        assert.notEqual(v2.pk, tpl);
        assert.equal(v2.version, 2);
        assert.equal(v2.description, 'second');

        // With an existing version: a new revision of that job type, reinstated if deleted.
        expect(await w.admin.call('DELETE', `/v1/job-templates/${tpl}`), 204, 'destroy');
        const replaced = expect(
          await w.admin.call('POST', '/v1/job-templates/import/', {
            ...document,
            definition: {
              command: ['echo', '{param.epochs}'],
              parameters: [{ name: 'epochs', type: 'integer' }],
            },
          }),
          200,
          'import v1',
        );
        assert.equal(replaced.pk, tpl);
        assert.equal(replaced.deletion_time, null);
        assert.deepEqual(replaced.inputs, {});
        assert.deepEqual(replaced.parameters, { epochs: { types: ['int'], help: '' } });
        const native = expect(await nativeType(w, tpl), 200, 'native');
        assert.equal(native.revision, 2);
        assert.equal(native.active, true);
        assert.deepEqual(native.definition.command, ['echo', '{param.epochs}']);
        assert.deepEqual(native.definition.inputs, []);

        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'x',
            definition: {},
            specific: {},
          }),
          400,
          /^Unable to parse JSON: Additional properties are not allowed \('specific' was unexpected\)/,
        );
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', { name: 'x' }),
          400,
          /^Unable to parse JSON: 'definition' is a required property/,
        );
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'x',
            definition: { command: ['true'], inputs: [{ name: 'a', type: 'tensor' }] },
          }),
          400,
          /^Bad job template: input "a" has type "tensor"/,
        );
        expectDetail(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'bad name!',
            definition: { command: ['true'] },
          }),
          400,
          /^Bad job template: name must be/,
        );
      } finally {
        await w.close();
      }
    });
  });
}
