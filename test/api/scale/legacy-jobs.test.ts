/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  createJobType,
  expectDetail,
  expectStatus,
  keys,
  manifest,
  queue,
  registerFile,
  registerNode,
  runOne,
} from './support.js';

/*
 * Scale's legacy job services (seed 003) at /jobs/… and /v5/jobs/…: list, details with
 * job_exes, inputs and outputs, PATCH {"status": "CANCELED"}, /jobs/updates/, /jobs/executions/.
 */

const V5_FIELDS = [
  'id',
  'job_type',
  'job_type_rev',
  'event',
  'node',
  'error',
  'status',
  'priority',
  'num_exes',
  'timeout',
  'max_tries',
  'cpus_required',
  'mem_required',
  'disk_in_required',
  'disk_out_required',
  'is_superseded',
  'root_superseded_job',
  'superseded_job',
  'superseded_by_job',
  'delete_superseded',
  'created',
  'queued',
  'started',
  'ended',
  'last_status_change',
  'superseded',
  'last_modified',
].sort();

const EXE_FIELDS = [
  'id',
  'status',
  'command_arguments',
  'timeout',
  'pre_started',
  'pre_completed',
  'pre_exit_code',
  'job_started',
  'job_completed',
  'job_exit_code',
  'post_started',
  'post_completed',
  'post_exit_code',
  'created',
  'queued',
  'started',
  'ended',
  'last_modified',
  'job',
  'node',
  'error',
].sort();

for (const database of TEST_DATABASES) {
  describe(`Scale legacy job services (${database.name})`, () => {
    let t: TestServer;
    let type: any;
    let file: any;
    let done: any;
    let waiting: any;
    let nodeId: number;

    before(async () => {
      t = await startTestServer(database);
      type = await createJobType(
        t,
        manifest('legacy-seed', {
          job: {
            interface: {
              command: 'echo ${INPUT_FILE} ${size}',
              inputs: {
                files: [{ name: 'INPUT_FILE' }],
                json: [{ name: 'size', type: 'integer' }],
              },
              outputs: { files: [{ name: 'out', pattern: '*.kml', required: false }] },
            },
          },
        }),
      );
      file = await registerFile(t, 'input_file.txt');
      nodeId = (await registerNode(t, 'legacy-node')).id;
      done = await queue(t, {
        job_type_id: type.id,
        input: { files: { INPUT_FILE: [file.id] }, json: { size: 5 } },
        configuration: { priority: 10 },
      });
      await runOne(t, nodeId);
      t.clock.advance(60_000);
      waiting = await queue(t, {
        job_type_id: type.id,
        input: { files: { INPUT_FILE: [file.id] }, json: { size: 6 } },
      });
    });
    after(async () => {
      await t?.close();
    });

    it('lists jobs with the v5 field set at /jobs/ and /v5/jobs/', async () => {
      for (const prefix of ['/jobs/', '/v5/jobs/']) {
        const body = expectStatus(await t.request('GET', prefix), 200).body;
        assert.deepEqual(keys(body), ['count', 'next', 'previous', 'results']);
        assert.equal(body.count, 2);
        assert.deepEqual(
          body.results.map((j: any) => j.id),
          [done.id, waiting.id],
        );
        for (const job of body.results) assert.deepEqual(keys(job), V5_FIELDS);
        assert.equal(body.results[0].priority, 10, 'v5 shows the Scale priority');
        assert.equal(body.results[0].status, 'COMPLETED');
        assert.equal(body.results[0].job_type.category, 'seed');
        assert.equal(body.results[0].event.rule, null);
      }
      const filtered = expectStatus(
        await t.request('GET', '/jobs/?status=QUEUED&job_type_name=legacy-seed'),
        200,
      ).body;
      assert.deepEqual(
        filtered.results.map((j: any) => j.id),
        [waiting.id],
      );
      assert.equal((await t.request('GET', '/jobs/?job_type_category=seed')).body.count, 2);
      assert.equal((await t.request('GET', '/jobs/?job_type_category=system')).body.count, 0);
      const ordered = (await t.request('GET', '/jobs/?order=-id&page_size=1')).body;
      assert.deepEqual(
        ordered.results.map((j: any) => j.id),
        [waiting.id],
      );
      assert.equal(ordered.next, `${t.url}/jobs/?order=-id&page=2&page_size=1`);
      expectDetail(
        await t.request('GET', '/jobs/?job_type_id=x'),
        400,
        'Parameter must be a valid integer: "job_type_id"',
      );
    });

    it('details: data, results, job_exes, inputs with file objects, outputs', async () => {
      const body = expectStatus(await t.request('GET', `/jobs/${done.id}/`), 200).body;
      for (const key of ['data', 'results', 'recipes', 'job_exes', 'inputs', 'outputs'])
        assert.ok(key in body, key);
      assert.deepEqual(body.data, {
        version: '1.0',
        input_data: [
          { name: 'INPUT_FILE', file_id: file.id },
          { name: 'size', value: 5 },
        ],
        output_data: [],
      });
      assert.equal(body.job_exes.length, 1);
      assert.deepEqual(keys(body.job_exes[0]), EXE_FIELDS);
      assert.equal(body.job_exes[0].status, 'COMPLETED');
      assert.equal(body.job_exes[0].job_exit_code, 0);
      assert.equal(body.inputs[0].name, 'INPUT_FILE');
      assert.equal(body.inputs[0].type, 'file');
      assert.equal(body.inputs[0].value.file_name, 'input_file.txt');
      assert.deepEqual(body.inputs[1], { name: 'size', type: 'property', value: 5 });
      assert.deepEqual(body.outputs, [{ name: 'out', type: 'file', value: null }]);
      expectDetail(await t.request('GET', '/jobs/99999/'), 404, 'Not found.');
    });

    it('PATCH cancels with Scale 400 rules', async () => {
      const patch = (id: number, body: unknown) => t.request('PATCH', `/jobs/${id}/`, body);
      expectDetail(
        await patch(waiting.id, { status: 'CANCELED', foo: 1 }),
        400,
        'Fields do not allow updates: foo',
      );
      expectDetail(
        await patch(waiting.id, { status: 'QUEUED' }),
        400,
        'Invalid or read-only status. Allowed values: CANCELED',
      );
      // util/rest.py: fields it does not allow first, then status is read (query, then body).
      const missing = 'Missing required parameter: "status"';
      expectDetail(await patch(waiting.id, {}), 400, missing);
      expectDetail(await patch(waiting.id, undefined), 400, missing);
      expectDetail(await patch(waiting.id, { status: null }), 400, missing);
      expectDetail(await patch(waiting.id, { foo: 1 }), 400, 'Fields do not allow updates: foo');
      expectDetail(
        await patch(waiting.id, { foo: 1, bar: 2, status: 'QUEUED' }),
        400,
        'Fields do not allow updates: foo, bar',
      );
      for (const status of [5, 'canceled', ['CANCELED'], '']) {
        expectDetail(
          await patch(waiting.id, { status }),
          400,
          'Invalid or read-only status. Allowed values: CANCELED',
        );
      }
      expectDetail(
        await t.request('PATCH', `/jobs/${waiting.id}/?status=QUEUED`, {}),
        400,
        'Invalid or read-only status. Allowed values: CANCELED',
      );
      // The job is looked up after the request is read: a bad request for no job is a 400.
      expectDetail(await patch(99999, {}), 400, missing);
      expectDetail(await patch(99999, { status: 'CANCELED' }), 404, 'Not found.');
      assert.notEqual((await t.request('GET', `/jobs/${waiting.id}/`)).body.status, 'CANCELED');
      const canceled = expectStatus(await patch(waiting.id, { status: 'CANCELED' }), 200).body;
      assert.equal(canceled.status, 'CANCELED');
      assert.ok('job_exes' in canceled, 'the body is the details');
      assert.equal((await t.request('GET', `/api/v1/jobs/${waiting.id}`)).body.state, 'CANCELED');
      const completed = expectStatus(await patch(done.id, { status: 'CANCELED' }), 200).body;
      assert.equal(completed.status, 'COMPLETED', 'a COMPLETED job is left as it is');
      const v5 = expectStatus(
        await t.request('PATCH', `/v5/jobs/${waiting.id}/`, { status: 'CANCELED' }),
        200,
      );
      assert.equal(v5.body.status, 'CANCELED');
    });

    it('/jobs/updates/: status changes in a window, with input files, by last_status_change', async () => {
      const body = expectStatus(await t.request('GET', '/jobs/updates/'), 200).body;
      const changes = body.results.map((j: any) => Date.parse(j.last_status_change));
      assert.deepEqual(
        changes,
        [...changes].sort((a, b) => a - b),
      );
      const first = body.results.find((j: any) => j.id === done.id);
      assert.deepEqual(keys(first), [...V5_FIELDS, 'input_files'].sort());
      assert.equal(first.input_files[0].file_name, 'input_file.txt');
      const since = new Date(t.clock.now - 1000).toISOString();
      const recent = expectStatus(
        await t.request('GET', `/jobs/updates/?started=${since}`),
        200,
      ).body;
      assert.deepEqual(
        recent.results.map((j: any) => j.id),
        [waiting.id],
      );
      assert.equal((await t.request('GET', '/jobs/updates/?status=COMPLETED')).body.count, 1);
    });

    it('/jobs/executions/: jobs with their latest execution', async () => {
      const body = expectStatus(await t.request('GET', '/jobs/executions/'), 200).body;
      const withExe = body.results.find((j: any) => j.id === done.id);
      assert.deepEqual(keys(withExe), [...V5_FIELDS, 'latest_job_exe'].sort());
      assert.deepEqual(keys(withExe.latest_job_exe), EXE_FIELDS);
      assert.deepEqual(withExe.latest_job_exe.node, { id: nodeId });
      const without = body.results.find((j: any) => j.id === waiting.id);
      assert.equal(without.latest_job_exe, null);
      assert.equal((await t.request('GET', '/v5/jobs/executions/?status=COMPLETED')).body.count, 1);
    });
  });
}
