/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { defineTemplate, expect, expectDetail, startUfdl } from './support.js';

/*
 * /v1/workable-templates, as UFDL's TypeScript client calls it (list, retrieve, destroy,
 * create-job, hard, reinstate, import, export): the workable templates alone, a meta
 * template is not found there. Template create and update are AllowNone on both prefixes.
 */

for (const database of TEST_DATABASES) {
  describe(`UFDL workable templates (${database.name})`, () => {
    test('the workable templates alone, with the job templates JSON', async () => {
      const w = await startUfdl(database);
      try {
        const train = await defineTemplate(w, 'train');
        const meta = expect(
          await w.admin.call('POST', '/v1/job-templates/import', {
            name: 'pipeline',
            definition: { children: [{ name: 'train', type: 'train' }] },
          }),
          200,
        );
        const listed = expect(await w.user.call('POST', '/v1/workable-templates/list'), 200);
        const all = expect(await w.user.call('POST', '/v1/job-templates/list'), 200);
        assert.deepEqual(
          listed,
          all.filter((t: any) => t.pk !== meta.pk),
        );
        assert.ok(listed.some((t: any) => t.pk === train));
        const one = expect(await w.user.call('GET', `/v1/workable-templates/${train}`), 200);
        assert.deepEqual(one, expect(await w.user.call('GET', `/v1/job-templates/${train}`), 200));
        expectDetail(
          await w.user.call('GET', `/v1/workable-templates/${meta.pk}`),
          404,
          'Not found.',
        );
        expectDetail(
          await w.user.call('POST', `/v1/workable-templates/${meta.pk}/create-job`, {
            input_values: {},
          }),
          404,
          'Not found.',
        );

        const job = expect(
          await w.user.call('POST', `/v1/workable-templates/${train}/create-job`, {
            input_values: {
              dataset: { value: 7, type: 'PK<Dataset<Domain<Image Classification>>>' },
            },
            description: 'through the workable templates',
          }),
          200,
        );
        assert.equal(job.template.pk, train);
        assert.equal(job.description, 'through the workable templates');

        // AllowNone: create and update are refused to everyone, on both prefixes.
        for (const prefix of ['/v1/workable-templates', '/v1/job-templates']) {
          for (const client of [w.user, w.admin]) {
            expectDetail(
              await client.call('POST', `${prefix}/create`, { name: 'x' }),
              403,
              'You do not have permission to perform this action.',
            );
            for (const method of ['PUT', 'PATCH']) {
              expectDetail(
                await client.call(method, `${prefix}/${train}`, { name: 'x' }),
                403,
                'You do not have permission to perform this action.',
              );
            }
          }
        }

        // Soft delete, reinstate, export and import, as on /v1/job-templates.
        expect(await w.user.call('DELETE', `/v1/workable-templates/${train}`), 403, 'not staff');
        const gone = await w.admin.call('DELETE', `/v1/workable-templates/${train}`);
        assert.equal(gone.status, 204);
        const hidden = expect(await w.user.call('POST', '/v1/workable-templates/list'), 200);
        assert.ok(!hidden.some((t: any) => t.pk === train));
        const back = expect(
          await w.admin.call('DELETE', `/v1/workable-templates/${train}/reinstate`),
          200,
        );
        assert.equal(back.deletion_time, null);
        const exported = expect(
          await w.admin.call('GET', `/v1/workable-templates/${train}/export`),
          200,
        );
        assert.equal(exported.name, 'train');
        const imported = expect(
          await w.admin.call('POST', '/v1/workable-templates/import', {
            ...exported,
            version: '2',
          }),
          200,
        );
        assert.equal(imported.version, 2);
        assert.equal(imported.executor_class, '');
        expectDetail(
          await w.admin.call('POST', '/v1/workable-templates/import', {
            name: 'pipeline2',
            definition: { children: [{ name: 'train', type: 'train' }] },
          }),
          400,
          /a workable template has no children/,
        );
        const hard = expect(
          await w.admin.call('DELETE', `/v1/workable-templates/${imported.pk}/hard`),
          200,
        );
        assert.equal(hard.pk, imported.pk);
        expectDetail(
          await w.user.call('GET', `/v1/workable-templates/${imported.pk}`),
          404,
          'Not found.',
        );
        // What a template takes and gives is asked at /v1/job-templates only.
        expectDetail(
          await w.user.call('GET', `/v1/workable-templates/${train}/get-outputs`),
          404,
          'Not found.',
        );
      } finally {
        await w.close();
      }
    });
  });
}
