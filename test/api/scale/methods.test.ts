/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  createJobType,
  expectDetail,
  expectStatus,
  manifest,
  queue,
  registerFile,
} from './support.js';

/*
 * Methods as Django REST framework answers them: a path Scale serves, asked with a method
 * its view lacks, is 405 {"detail": "Method \"X\" not allowed."}; only a path no view
 * serves is 404. Nothing changes on a 405.
 */

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

for (const database of TEST_DATABASES) {
  describe(`Scale methods (${database.name})`, () => {
    let t: TestServer;
    let job: any;
    let exe: number;

    before(async () => {
      t = await startTestServer(database);
      const type = await createJobType(
        t,
        manifest('methods-seed', { job: { interface: { command: 'true', inputs: {} } } }),
      );
      job = await queue(t, { job_type_id: type.id, input: {} });
      const node = expectStatus(
        await t.request('POST', '/api/v1/nodes', {
          name: 'm-node',
          hostname: 'm',
          cpus: 4,
          mem: 4096,
          disk: 1000,
        }),
        200,
      ).body;
      const order = expectStatus(
        await t.request('POST', `/api/v1/nodes/${node.id}/acquire?wait=0`),
        200,
      ).body;
      exe = order.execution.id;
      await registerFile(t, 'm.txt');
    });
    after(async () => {
      await t?.close();
    });

    it('GET, PUT, DELETE on /v6/jobs/cancel/ and /v6/jobs/requeue/ are 405; nothing happens', async () => {
      for (const path of ['/v6/jobs/cancel/', '/v6/jobs/requeue/', '/api/v6/jobs/cancel/']) {
        for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
          const res = await t.request(method, path, method === 'GET' ? undefined : {});
          expectDetail(res, 405, `Method "${method}" not allowed.`);
          assert.deepEqual(res.body, { detail: `Method "${method}" not allowed.` });
        }
      }
      const after = expectStatus(await t.request('GET', `/v6/jobs/${job.id}/`), 200).body;
      assert.equal(after.status, 'RUNNING', 'a 405 cancels nothing');
    });

    it('every served path answers its other methods 405, in v6 and legacy alike', async () => {
      const served: Record<string, readonly string[]> = {
        '/v6/jobs/': ['GET', 'POST'],
        [`/v6/jobs/${job.id}/`]: ['GET'],
        [`/v6/jobs/${job.id}/input_files/`]: ['GET'],
        [`/v6/jobs/${job.id}/executions/`]: ['GET'],
        [`/v6/jobs/${job.id}/executions/1/`]: ['GET'],
        [`/v6/job-executions/${exe}/`]: ['GET'],
        [`/v6/job-executions/${exe}/logs/combined/`]: ['GET'],
        '/v6/job-types/': ['GET', 'POST'],
        '/v6/job-types/methods-seed/': ['GET'],
        '/v6/errors/': ['GET'],
        '/v6/nodes/': ['GET'],
        '/v6/batches/': ['GET', 'POST'],
        '/v6/files/': ['GET', 'POST'],
        '/jobs/': ['GET'],
        '/jobs/updates/': ['GET'],
        '/jobs/executions/': ['GET'],
        [`/jobs/${job.id}/`]: ['GET', 'PATCH'],
        [`/v5/jobs/${job.id}/`]: ['GET', 'PATCH'],
      };
      for (const [path, methods] of Object.entries(served)) {
        for (const method of METHODS.filter((m) => !methods.includes(m))) {
          const res = await t.request(method, path, method === 'GET' ? undefined : {});
          expectDetail(res, 405, `Method "${method}" not allowed.`);
        }
      }
      // The ids of a path do not matter to the 405: the method is refused before any lookup.
      expectDetail(
        await t.request('DELETE', '/v6/jobs/99999/'),
        405,
        'Method "DELETE" not allowed.',
      );
    });

    it('only a path that does not exist is 404', async () => {
      for (const method of METHODS) {
        for (const path of [
          '/v6/no-such-thing/',
          '/v6/jobs/abc/',
          '/v6/jobs/1/nothing/',
          '/jobs/x/y/',
        ]) {
          const res = await t.request(method, path, method === 'GET' ? undefined : {});
          expectDetail(res, 404, 'Not found.');
        }
      }
    });
  });
}
