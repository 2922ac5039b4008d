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
  registerNode,
  startUfdl,
} from './support.js';

/*
 * /v1/job-types and /v1/job-contracts (UFDL's JobTypeViewSet, JobContractViewSet): list with
 * a FilterSpec and retrieve, serialised as {pk, name, pkg, cls}. The job types are those of
 * UFDL's standard types this installation uses; the contracts are the three UFDL ships.
 */

const type = (pk: number, name: string, cls: string) => ({
  pk,
  name,
  pkg: 'ufdl.jobtypes',
  cls: `ufdl.jobtypes.${cls}`,
});

for (const database of TEST_DATABASES) {
  describe(`UFDL job types and contracts (${database.name})`, () => {
    test('job types: the standard types that templates, jobs and outputs use', async () => {
      const w = await startUfdl(database);
      try {
        // The built-in job types take strings (str) and an array (JSON).
        const fresh = expect(await w.user.call('POST', '/v1/job-types/list'), 200, 'fresh');
        assert.deepEqual(fresh, [
          type(7, 'str', 'base.String'),
          type(22, 'JSON', 'standard.util.JSON'),
        ]);
        assert.deepEqual(Object.keys(fresh[0]!), ['pk', 'name', 'pkg', 'cls']);

        // A job type defined natively, with a boolean parameter and an output typed for UFDL.
        expect(
          await w.t.request(
            'POST',
            '/api/v1/job-types',
            {
              name: 'evaluate',
              definition: {
                command: ['true'],
                parameters: [{ name: 'verbose', type: 'boolean' }],
                outputs: [{ name: 'scores', type: 'Array<float>' }],
              },
            },
            await nativeToken(w),
          ),
          201,
          'native job type',
        );
        assert.deepEqual(
          expect(await w.user.call('POST', '/v1/job-types/list'), 200, 'native').map(
            (t: any) => t.name,
          ),
          ['str', 'float', 'bool', 'Array', 'JSON'],
        );

        // A template with integer fields; a job whose input a UFDL client typed.
        const job = await createJob(w, await defineTemplate(w));
        const node = await registerNode(w);
        expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
        expect(
          await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
          200,
          'start',
        );
        expect(
          await node.addOutput(job.pk, 'model', 'Compressed<TextFile>', Buffer.from('m')),
          200,
          'output',
        );
        // A media type is no UFDL type string: it names no type.
        expect(await node.addOutput(job.pk, 'plot', 'image/png', Buffer.from('p')), 200, 'png');

        const used = expect(await w.user.call('POST', '/v1/job-types/list/'), 200, 'used');
        assert.deepEqual(
          used.map((t: any) => t.name),
          ['str', 'int', 'float', 'bool', 'Array', 'Dataset', 'Domain', 'Compressed', 'JSON', 'PK'],
        );
        assert.deepEqual(
          used.find((t: any) => t.name === 'PK'),
          type(27, 'PK', 'standard.PK'),
        );

        const filtered = expect(
          await w.user.call('POST', '/v1/job-types/list', {
            expressions: [{ type: 'contains', field: 'cls', sub_string: '.server.' }],
            order_by: [{ field: 'name', ascending: false }],
          }),
          200,
          'filtered',
        );
        assert.deepEqual(
          filtered.map((t: any) => t.name),
          ['Domain', 'Dataset'],
        );
        expectDetail(
          await w.user.call('POST', '/v1/job-types/list', {
            expressions: [{ type: 'exact', field: 'package', value: 'x' }],
          }),
          400,
          /Cannot resolve keyword 'package' into field/,
        );

        assert.deepEqual(
          expect(await w.user.call('GET', '/v1/job-types/16'), 200, 'retrieve'),
          type(16, 'Domain', 'standard.server.Domain'),
        );
        // CUDAVersion is a UFDL type, but nothing here uses it.
        expectDetail(await w.user.call('GET', '/v1/job-types/13'), 404, 'Not found.');
        expectDetail(await w.user.call('GET', '/v1/job-types/99'), 404, 'Not found.');
      } finally {
        await w.close();
      }
    });

    test('job contracts: the three UFDL ships, in its order', async () => {
      const w = await startUfdl(database);
      try {
        const contracts = expect(await w.user.call('POST', '/v1/job-contracts/list'), 200, 'list');
        assert.deepEqual(contracts, [
          {
            pk: 1,
            name: 'Predict',
            pkg: 'ufdl.jobcontracts',
            cls: 'ufdl.jobcontracts.standard.Predict',
          },
          {
            pk: 2,
            name: 'Train',
            pkg: 'ufdl.jobcontracts',
            cls: 'ufdl.jobcontracts.standard.Train',
          },
          {
            pk: 3,
            name: 'Export',
            pkg: 'ufdl.jobcontracts',
            cls: 'ufdl.jobcontracts.standard.Export',
          },
        ]);
        const train = expect(
          await w.user.call('POST', '/v1/job-contracts/list', {
            expressions: [{ type: 'exact', field: 'name', value: 'train', case_insensitive: true }],
          }),
          200,
          'filtered',
        );
        assert.deepEqual(train, [contracts[1]]);
        assert.deepEqual(
          expect(await w.user.call('GET', '/v1/job-contracts/3/'), 200, 'retrieve'),
          contracts[2],
        );
        expectDetail(await w.user.call('GET', '/v1/job-contracts/4'), 404, 'Not found.');
        expectDetail(
          await w.user.call('GET', '/v1/job-contracts/list'),
          405,
          'Method "GET" not allowed.',
        );
      } finally {
        await w.close();
      }
    });

    test('permissions: 401 without a token; neither registry can be changed', async () => {
      const w = await startUfdl(database);
      try {
        for (const prefix of ['/v1/job-types', '/v1/job-contracts']) {
          const anon = await w.anonymous.call('POST', `${prefix}/list`);
          expectDetail(anon, 401, 'Authentication credentials were not provided.', prefix);
          assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="api"');
          expectDetail(
            await w.anonymous.call('GET', `${prefix}/1`),
            401,
            'Authentication credentials were not provided.',
            prefix,
          );
          for (const client of [w.user, w.admin]) {
            for (const [method, path] of [
              ['POST', `${prefix}/create`],
              ['PUT', `${prefix}/1`],
              ['PATCH', `${prefix}/1`],
              ['DELETE', `${prefix}/1`],
            ] as const) {
              expectDetail(
                await client.call(method, path, { name: 'x', pkg: 'p', cls: 'p.X' }),
                403,
                'You do not have permission to perform this action.',
                `${client.username} ${method} ${path}`,
              );
            }
          }
        }
        assert.equal(
          expect(await w.user.call('POST', '/v1/job-contracts/list'), 200, 'unchanged').length,
          3,
        );
      } finally {
        await w.close();
      }
    });
  });
}
