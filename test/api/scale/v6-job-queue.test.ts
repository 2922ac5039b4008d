/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  createJobType,
  expectDetail,
  expectStatus,
  JOB_DETAIL_FIELDS,
  keys,
  manifest,
  queue,
  registerFile,
} from './support.js';

/*
 * POST /v6/jobs/, GET /v6/jobs/{id}/ and GET /v6/jobs/{id}/input_files/ (seed 002): Data
 * JSON checked in Scale's order with Scale's messages, the 201 with Location, the detail
 * field set, and the job seen through the native API.
 */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 queue new job, details, input files (${database.name})`, () => {
    let t: TestServer;
    let type: any;
    let files: any[];

    before(async () => {
      t = await startTestServer(database);
      type = await createJobType(
        t,
        manifest('queue-test', {
          job: {
            resources: {
              scalar: [
                { name: 'cpus', value: 1 },
                { name: 'mem', value: 64 },
                { name: 'disk', value: 10, inputMultiplier: 4 },
              ],
            },
            interface: {
              command: 'echo ${input_a} ${threshold}',
              inputs: {
                files: [{ name: 'input_a' }, { name: 'input_b', required: false, multiple: true }],
                json: [
                  { name: 'threshold', type: 'integer' },
                  { name: 'label', type: 'string', required: false },
                ],
              },
              settings: [{ name: 'VISIBLE' }, { name: 'PASSWORD', secret: true }],
            },
          },
        }),
        { configuration: { priority: 50, settings: { VISIBLE: 'yes', PASSWORD: 'hunter2' } } },
      );
      files = [
        await registerFile(t, 'my-file.file'),
        await registerFile(t, 'b1.file', { file_size: 2 * 1024 * 1024 }),
        await registerFile(t, 'b2.file'),
      ];
    });
    after(async () => {
      await t?.close();
    });

    const valid = () => ({
      job_type_id: type.id,
      input: {
        version: '7',
        files: { input_a: [files[0].id], input_b: [files[1].id, files[2].id] },
        json: { threshold: 3, ignored: 'dropped' },
      },
    });

    it('queues a job: 201, Location, details with Scale fields, QUEUED with num_exes 1', async () => {
      const res = expectStatus(await t.request('POST', '/v6/jobs/', valid()), 201);
      const job = res.body;
      assert.equal(res.headers.get('location'), `${t.url}/v6/jobs/${job.id}/`);
      assert.deepEqual(keys(job), JOB_DETAIL_FIELDS);
      assert.equal(job.status, 'QUEUED');
      assert.equal(job.num_exes, 1);
      assert.equal(job.max_tries, 3);
      assert.equal(job.execution, null);
      assert.equal(job.event.type, 'USER');
      assert.deepEqual(job.input, {
        files: { input_a: [files[0].id], input_b: [files[1].id, files[2].id] },
        json: { threshold: 3 },
      });
      assert.deepEqual(job.output, { files: {}, json: {} });
      assert.deepEqual(job.input_files, {
        input_a: ['my-file.file'],
        input_b: ['b1.file', 'b2.file'],
      });
      assert.equal(job.input_file_size, 4);
      // disk = ceil(4 × 4 MiB + 10); mem has Scale's floor of 128.
      assert.deepEqual(job.resources, { resources: { cpus: 1, mem: 128, disk: 26 } });
      assert.deepEqual(job.configuration, {
        mounts: {},
        output_workspaces: { outputs: {} },
        priority: 50,
        settings: { VISIBLE: 'yes' },
      });
      assert.equal(job.job_type_rev.revision_num, 1);
      assert.equal(job.job_type_rev.manifest.job.name, 'queue-test');
      assert.equal(job.job_type_rev.docker_image, 'queue-test-1.0.0-seed:1.0.0');

      const again = expectStatus(await t.request('GET', `/v6/jobs/${job.id}/`), 200).body;
      assert.deepEqual(again, job);
      // The same job through the native face: priority 50 on Scale's scale is 100 on Drover's.
      const native = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body;
      assert.equal(native.state, 'QUEUED');
      assert.equal(native.priority, 100);
      assert.equal(native.maxTries, 3);
      assert.deepEqual(native.resources, { cpus: 1, mem: 128, disk: 26, gpus: 0 });
      assert.equal(native.inputs.input_a, '/data/my-file.file');
      assert.equal(native.inputs.input_b, '/data/b1.file /data/b2.file');
      assert.equal(native.parameters.threshold, '3');
    });

    it('priority round-trips through the configuration', async () => {
      for (const priority of [1, 100, 250]) {
        const job = await queue(t, { ...valid(), configuration: { priority } });
        assert.equal(job.configuration.priority, priority);
      }
    });

    it('checks the data in Scale order with Scale messages', async () => {
      const post = (body: unknown) => t.request('POST', '/v6/jobs/', body);
      expectDetail(await post({ input: {} }), 400, 'Missing required parameter: "job_type_id"');
      expectDetail(
        await post({ job_type_id: 'x' }),
        400,
        'Parameter must be a valid integer: "job_type_id"',
      );
      expectDetail(
        await post({ job_type_id: type.id, input: [1] }),
        400,
        'Parameter must be a valid JSON object: "input"',
      );
      expectDetail(
        await post({ job_type_id: 999, input: { files: { a: [] } } }),
        400,
        'Invalid data: [] is too short',
      );
      expectDetail(await post({ job_type_id: 999, input: {} }), 404, 'Not found.');
      expectDetail(
        await post({ job_type_id: type.id, input: { version: '5' } }),
        400,
        /^Invalid data: /,
      );
      expectDetail(
        await post({ job_type_id: type.id, input: { extra: 1 } }),
        400,
        "Invalid data: Additional properties are not allowed ('extra' was unexpected)",
      );
      expectDetail(
        await post({ job_type_id: type.id, input: { files: { input_a: ['x'] } } }),
        400,
        "Invalid data: 'x' is not of type 'integer'",
      );
      expectDetail(
        await post({ job_type_id: type.id, input: { json: { threshold: 1 } } }),
        400,
        "Parameter 'input_a' is required",
      );
      expectDetail(
        await post({
          job_type_id: type.id,
          input: { files: { input_a: [files[0].id, files[1].id] }, json: { threshold: 1 } },
        }),
        400,
        "Parameter 'input_a' cannot accept multiple files",
      );
      expectDetail(
        await post({ job_type_id: type.id, input: { files: { input_a: [files[0].id] } } }),
        400,
        "Parameter 'threshold' is required",
      );
      expectDetail(
        await post({
          job_type_id: type.id,
          input: { files: { input_a: [files[0].id] }, json: { threshold: 'x' } },
        }),
        400,
        "Parameter 'threshold' must receive an integer",
      );
      expectDetail(
        await post({
          job_type_id: type.id,
          input: { files: { input_a: [files[0].id], threshold: [files[1].id] } },
        }),
        400,
        "Parameter 'threshold' of type 'json' cannot accept data of type 'file'",
      );
      expectDetail(
        await post({ ...valid(), configuration: { priority: 0 } }),
        400,
        'Job type configuration invalid: Invalid configuration: 0 is less than the minimum of 1',
      );
      expectDetail(
        await post({ ...valid(), configuration: { version: '1.0' } }),
        400,
        'Job type configuration invalid: Invalid configuration version: 1.0',
      );
      expectDetail(await post('{"job_type_id": '), 400, /^JSON parse error/);
    });

    it('accepts legacy v1.0 data and converts it', async () => {
      const job = await queue(t, {
        job_type_id: type.id,
        input: {
          version: '1.0',
          input_data: [
            { name: 'input_a', file_id: files[0].id },
            { name: 'threshold', value: 7 },
          ],
        },
      });
      assert.deepEqual(job.input, { files: { input_a: [files[0].id] }, json: { threshold: 7 } });
    });

    it('details: 404 for unknown ids, 405 for PATCH; /api/v6 gives the same job', async () => {
      expectDetail(await t.request('GET', '/v6/jobs/99999/'), 404, 'Not found.');
      const job = await queue(t, valid());
      expectDetail(
        await t.request('PATCH', `/v6/jobs/${job.id}/`, { status: 'CANCELED' }),
        405,
        'Method "PATCH" not allowed.',
      );
      const prefixed = expectStatus(await t.request('GET', `/api/v6/jobs/${job.id}/`), 200).body;
      assert.equal(prefixed.id, job.id);
      const res = await t.request('POST', '/api/v6/jobs/', valid());
      assert.equal(res.headers.get('location'), `${t.url}/api/v6/jobs/${res.body.id}/`);
    });

    it('input_files: the registered files of the job, filtered and paginated', async () => {
      const job = await queue(t, valid());
      const body = expectStatus(
        await t.request('GET', `/v6/jobs/${job.id}/input_files/`),
        200,
      ).body;
      assert.equal(body.count, 3);
      assert.deepEqual(
        body.results.map((f: any) => f.file_name),
        ['my-file.file', 'b1.file', 'b2.file'],
      );
      assert.equal(body.results[0].file_path, '/data/my-file.file');
      assert.deepEqual(body.results[0].job, { id: job.id });
      const byInput = await t.request('GET', `/v6/jobs/${job.id}/input_files/?job_input=input_b`);
      assert.equal(byInput.body.count, 2);
      const byName = await t.request('GET', `/v6/jobs/${job.id}/input_files/?file_name=b2.file`);
      assert.deepEqual(
        byName.body.results.map((f: any) => f.id),
        [files[2].id],
      );
      const paged = await t.request('GET', `/v6/jobs/${job.id}/input_files/?page_size=2`);
      assert.equal(paged.body.next, `${t.url}/v6/jobs/${job.id}/input_files/?page=2&page_size=2`);
      expectDetail(
        await t.request('GET', `/v6/jobs/${job.id}/input_files/?time_field=bogus`),
        400,
        'Parameter "time_field" values must be one of: [source, data, last_modified]',
      );
      expectDetail(await t.request('GET', '/v6/jobs/99999/input_files/'), 404, 'Not found.');
      const registered = expectStatus(
        await t.request('GET', `/v6/files/?job_id=${job.id}`),
        200,
      ).body;
      assert.equal(registered.count, 3);
    });

    it("input_files: time_field=source|data windows filter on the files' own times", async () => {
      // Scale's containment: `started` bounds the file's start time, `ended` its end time.
      const times = (source: [string, string], data: [string, string]) => ({
        source_started: source[0],
        source_ended: source[1],
        data_started: data[0],
        data_ended: data[1],
      });
      const early = await registerFile(
        t,
        'early.file',
        times(
          ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z'],
          ['2021-06-01T00:00:00Z', '2021-06-02T00:00:00Z'],
        ),
      );
      const late = await registerFile(
        t,
        'late.file',
        times(
          ['2020-03-01T00:00:00Z', '2020-03-02T00:00:00Z'],
          ['2021-01-01T00:00:00Z', '2021-01-02T00:00:00Z'],
        ),
      );
      const untimed = await registerFile(t, 'untimed.file');
      assert.equal(early.data_ended, '2021-06-02T00:00:00Z');
      assert.equal(untimed.source_started, null);
      const job = await queue(t, {
        job_type_id: type.id,
        input: {
          files: { input_a: [early.id], input_b: [late.id, untimed.id] },
          json: { threshold: 1 },
        },
      });
      const names = async (query: string) => {
        const body = expectStatus(
          await t.request('GET', `/v6/jobs/${job.id}/input_files/?${query}`),
          200,
          query,
        ).body;
        assert.equal(body.count, body.results.length);
        return body.results.map((f: any) => f.file_name).sort();
      };
      assert.deepEqual(await names('time_field=source'), [
        'early.file',
        'late.file',
        'untimed.file',
      ]);
      assert.deepEqual(await names('time_field=source&started=2020-02-01T00:00:00Z'), [
        'late.file',
      ]);
      assert.deepEqual(await names('time_field=source&ended=2020-02-01T00:00:00Z'), ['early.file']);
      assert.deepEqual(
        await names('time_field=source&started=2020-01-01T00:00:00Z&ended=2020-03-02T00:00:00Z'),
        ['early.file', 'late.file'],
      );
      // A window around the file's start only: its end falls outside, so it is not contained.
      assert.deepEqual(
        await names('time_field=source&started=2019-12-01T00:00:00Z&ended=2020-01-01T12:00:00Z'),
        [],
      );
      assert.deepEqual(await names('time_field=data&started=2021-02-01T00:00:00Z'), ['early.file']);
      assert.deepEqual(await names('time_field=data&ended=2021-02-01T00:00:00Z'), ['late.file']);
      assert.deepEqual(
        await names('time_field=data&ended=2021-02-01T00:00:00Z&job_input=input_a'),
        [],
      );
      // last_modified (the default) still windows the registration time.
      assert.deepEqual(await names('started=PT1H'), ['early.file', 'late.file', 'untimed.file']);
      assert.deepEqual(await names('time_field=last_modified&ended=2020-01-01T00:00:00Z'), []);
    });
  });
}
