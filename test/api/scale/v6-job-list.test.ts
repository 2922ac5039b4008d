/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  acquire,
  createJobType,
  expectDetail,
  expectStatus,
  JOB_LIST_FIELDS,
  JOB_TYPE_BASE_FIELDS,
  keys,
  manifest,
  queue,
  registerFile,
  registerNode,
  runOne,
} from './support.js';

/*
 * GET /v6/jobs/ (seed 002 "v6 Job List"): every filter, ordering, pagination links, field
 * sets, and the status table row by row against jobs moved through the native API.
 */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 job list (${database.name})`, () => {
    let t: TestServer;
    const jobs: Record<string, any> = {};
    let typeA: any;
    let typeB: any;
    let batch: any;
    let nodeId: number;

    const list = async (query: string) =>
      expectStatus(await t.request('GET', `/v6/jobs/${query}`), 200).body;
    const ids = (body: any) => body.results.map((j: any) => j.id);

    before(async () => {
      t = await startTestServer(database);
      typeA = await createJobType(t, manifest('list-a'));
      typeB = await createJobType(
        t,
        manifest('list-b', { job: { interface: { command: 'true', inputs: {} } } }),
      );
      batch = expectStatus(
        await t.request('POST', '/v6/batches/', { title: 'My Batch' }),
        201,
      ).body;
      nodeId = (await registerNode(t, 'list-node')).id;
      const file = (name: string, extra: Record<string, unknown>) => registerFile(t, name, extra);
      const f1 = await file('one.txt', {
        source_started: '2015-08-28T17:55:41Z',
        source_ended: '2015-08-28T17:56:41Z',
        source_sensor_class: 'classA',
        source_sensor: '1',
        source_collection: '12345',
        source_task: 'my-task',
      });
      const f2 = await file('two.txt', {
        source_started: '2016-01-01T00:00:00Z',
        source_ended: '2016-01-02T00:00:00Z',
        source_sensor_class: 'classB',
        source_sensor: '2',
        source_collection: '999',
        source_task: 'other-task',
      });
      const step = () => t.clock.advance(60_000);
      // Each job is made in its own minute so last_modified orders them as created.
      jobs.completed = await queue(t, {
        job_type_id: typeA.id,
        input: { files: { INPUT_FILE: [f1.id] } },
        batch_id: batch.id,
      });
      await runOne(t, nodeId);
      step();
      jobs.failed = await queue(t, {
        job_type_id: typeA.id,
        input: { files: { INPUT_FILE: [f2.id] } },
      });
      await runOne(t, nodeId, { category: 'ALGORITHM' });
      step();
      jobs.canceled = await queue(t, { job_type_id: typeB.id, input: {} });
      expectStatus(await t.request('POST', `/api/v1/jobs/${jobs.canceled.id}/cancel`), 200);
      step();
      jobs.blocked = await queue(t, { job_type_id: typeB.id, input: {} });
      expectStatus(await t.request('POST', `/api/v1/jobs/${jobs.blocked.id}/suspend`), 200);
      step();
      jobs.running = await queue(t, { job_type_id: typeB.id, input: {} });
      const order = await acquire(t, nodeId);
      assert.equal(order.job.id, jobs.running.id);
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/start`, { nodeId }),
        200,
      );
      step();
      jobs.pending = expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          type: 'list-b',
          typeVersion: '1.0.0',
          initialState: 'PENDING',
        }),
        201,
      ).body;
      step();
      jobs.queued = await queue(t, { job_type_id: typeB.id, input: {} });
      step();
    });
    after(async () => {
      await t?.close();
    });

    it('lists every job, oldest change first, with the v6 field set', async () => {
      const body = await list('');
      assert.deepEqual(keys(body), ['count', 'next', 'previous', 'results']);
      assert.equal(body.count, 7);
      assert.equal(body.next, null);
      assert.equal(body.previous, null);
      const times = body.results.map((j: any) => Date.parse(j.last_modified));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      for (const job of body.results) {
        assert.deepEqual(keys(job), JOB_LIST_FIELDS);
        assert.deepEqual(keys(job.job_type), JOB_TYPE_BASE_FIELDS);
        assert.deepEqual(keys(job.job_type_rev), ['id', 'job_type', 'revision_num']);
        assert.equal('priority' in job, false, 'v6 shows no priority');
      }
    });

    it('maps every engine state onto Scale statuses (the status table)', async () => {
      const status = async (id: number) => (await list(`?job_id=${id}`)).results[0].status;
      assert.equal(await status(jobs.completed.id), 'COMPLETED');
      assert.equal(await status(jobs.failed.id), 'FAILED');
      assert.equal(await status(jobs.canceled.id), 'CANCELED');
      assert.equal(await status(jobs.blocked.id), 'BLOCKED'); // SUSPENDED
      assert.equal(await status(jobs.running.id), 'RUNNING');
      assert.equal(await status(jobs.pending.id), 'PENDING');
      assert.equal(await status(jobs.queued.id), 'QUEUED');
      const native = (await t.request('GET', `/api/v1/jobs/${jobs.blocked.id}`)).body;
      assert.equal(native.state, 'SUSPENDED');
    });

    it('filters by status, repeated', async () => {
      assert.deepEqual(ids(await list('?status=FAILED')), [jobs.failed.id]);
      assert.deepEqual(ids(await list('?status=QUEUED&status=RUNNING&order=id')), [
        jobs.running.id,
        jobs.queued.id,
      ]);
      assert.equal((await list('?status=NOPE')).count, 0, 'unknown status: no match, no error');
    });

    it('counts as many jobs as it finds for every status, from the tallies as by count(*)', async () => {
      // A filter of statuses alone is counted from the job tallies (migration 0049); with a
      // job type filter that matches every job, the same statuses are counted by count(*).
      const every = 'job_type_name=list-a&job_type_name=list-b';
      const filters = [
        '',
        ...['PENDING', 'BLOCKED', 'QUEUED', 'RUNNING', 'FAILED', 'COMPLETED', 'CANCELED'].map(
          (s) => `status=${s}`,
        ),
        'status=QUEUED&status=RUNNING',
        'status=BLOCKED&status=PENDING&status=FAILED',
      ];
      for (const filter of filters) {
        const tallied = await list(`?page_size=1000&${filter}`);
        const counted = await list(`?page_size=1000&${every}&${filter}`);
        assert.equal(tallied.count, tallied.results.length, filter);
        assert.equal(counted.count, tallied.count, filter);
        assert.deepEqual(ids(counted), ids(tallied), filter);
      }
      assert.equal((await list('?status=COMPLETED&status=FAILED')).count, 2);
      assert.equal((await list('?status=QUEUED')).count, 1);
    });

    it('filters by job id, job type id and name, batch', async () => {
      assert.deepEqual(
        ids(await list(`?job_id=${jobs.failed.id}&job_id=${jobs.queued.id}&order=id`)),
        [jobs.failed.id, jobs.queued.id],
      );
      assert.deepEqual(ids(await list(`?job_type_id=${typeA.id}&order=id`)), [
        jobs.completed.id,
        jobs.failed.id,
      ]);
      assert.equal((await list('?job_type_name=list-b')).count, 5);
      assert.equal((await list('?job_type_name=list-a&job_type_name=list-b')).count, 7);
      const inBatch = await list(`?batch_id=${batch.id}`);
      assert.deepEqual(ids(inBatch), [jobs.completed.id]);
      assert.deepEqual(inBatch.results[0].batch, {
        id: batch.id,
        title: 'My Batch',
        description: '',
        created: batch.created,
      });
      assert.equal((await list('?recipe_id=1')).count, 0);
    });

    it('filters by error category and error id', async () => {
      assert.deepEqual(ids(await list('?error_category=ALGORITHM')), [jobs.failed.id]);
      assert.equal((await list('?error_category=SYSTEM')).count, 0);
      const failed = (await list(`?job_id=${jobs.failed.id}`)).results[0];
      assert.equal(failed.error.name, 'algorithm-unknown');
      assert.deepEqual(keys(failed.error), [
        'category',
        'description',
        'id',
        'is_builtin',
        'job_type_name',
        'name',
        'should_be_retried',
        'title',
      ]);
      assert.deepEqual(ids(await list(`?error_id=${failed.error.id}`)), [jobs.failed.id]);
    });

    it('filters by the source metadata of the input files', async () => {
      const completed = (await list(`?job_id=${jobs.completed.id}`)).results[0];
      assert.equal(completed.source_sensor_class, 'classA');
      assert.equal(completed.source_started, '2015-08-28T17:55:41Z');
      assert.deepEqual(completed.input_files, { INPUT_FILE: ['one.txt'] });
      assert.equal(completed.input_file_size, 1);
      assert.deepEqual(ids(await list('?source_sensor_class=classA')), [jobs.completed.id]);
      assert.deepEqual(ids(await list('?source_sensor=2')), [jobs.failed.id]);
      assert.deepEqual(ids(await list('?source_collection=12345&source_collection=999&order=id')), [
        jobs.completed.id,
        jobs.failed.id,
      ]);
      assert.deepEqual(ids(await list('?source_task=other-task')), [jobs.failed.id]);
      assert.deepEqual(ids(await list('?source_tasks=my-task')), [jobs.completed.id]);
      assert.deepEqual(ids(await list('?source_started=2015-12-31T00:00:00Z')), [jobs.failed.id]);
      assert.deepEqual(ids(await list('?source_ended=2015-12-31T00:00:00Z')), [jobs.completed.id]);
    });

    it('started/ended bound last_modified; durations count back from now', async () => {
      const all = (await list('')).results;
      const third = all[2].last_modified;
      const fourth = all[3].last_modified;
      const window = await list(`?started=${third}&ended=${fourth}`);
      assert.deepEqual(ids(window), [all[2].id, all[3].id]);
      const recent = await list('?started=PT2M30S');
      assert.deepEqual(
        ids(recent),
        all.slice(-2).map((j: any) => j.id),
      );
      expectDetail(
        await t.request('GET', `/v6/jobs/?started=${fourth}&ended=${third}`),
        400,
        'Start time must come before end time',
      );
      expectDetail(
        await t.request('GET', `/v6/jobs/?started=${third}&ended=${third}`),
        400,
        'Start and end values must be different',
      );
      expectDetail(
        await t.request('GET', '/v6/jobs/?started=2015-01-01T00:00:00'),
        400,
        'Invalid ISO timestamp format for parameter: started',
      );
      expectDetail(
        await t.request('GET', '/v6/jobs/?ended=P1Y'),
        400,
        'Invalid ISO timestamp format for parameter: ended',
      );
    });

    it('is_superseded: false matches all, true none; bad booleans and integers are 400', async () => {
      assert.equal((await list('?is_superseded=false')).count, 7);
      assert.equal((await list('?is_superseded=TRUE')).count, 0);
      expectDetail(
        await t.request('GET', '/v6/jobs/?is_superseded=maybe'),
        400,
        'Parameter must be a valid boolean: "is_superseded"',
      );
      expectDetail(
        await t.request('GET', '/v6/jobs/?job_id=abc'),
        400,
        'Parameter must be a valid integer: "job_id"',
      );
    });

    it('orders by one or more fields, - for descending', async () => {
      const byId = ids(await list('?order=-id'));
      assert.deepEqual(
        byId,
        [...byId].sort((a, b) => b - a),
      );
      const byType = (await list('?order=job_type__name&order=-id')).results;
      assert.deepEqual(
        byType.map((j: any) => [j.job_type.name, j.id]),
        [
          ['list-a', jobs.failed.id],
          ['list-a', jobs.completed.id],
          ...[jobs.queued, jobs.pending, jobs.running, jobs.blocked, jobs.canceled].map((j) => [
            'list-b',
            j.id,
          ]),
        ],
      );
      expectDetail(
        await t.request('GET', '/v6/jobs/?order=bogus'),
        400,
        'Invalid order field: bogus',
      );
    });

    it('paginates with absolute next/previous links, query keys in order', async () => {
      const first = await list('?status=QUEUED&status=RUNNING&status=FAILED&page_size=2');
      assert.equal(first.count, 3);
      assert.equal(first.results.length, 2);
      assert.equal(first.previous, null);
      assert.equal(
        first.next,
        `${t.url}/v6/jobs/?page=2&page_size=2&status=QUEUED&status=RUNNING&status=FAILED`,
      );
      const second = expectStatus(await t.request('GET', first.next.slice(t.url.length)), 200).body;
      assert.equal(second.results.length, 1);
      assert.equal(second.next, null);
      assert.equal(
        second.previous,
        `${t.url}/v6/jobs/?page_size=2&status=QUEUED&status=RUNNING&status=FAILED`,
      );
      const third = await list('?page_size=3&page=3');
      assert.equal(third.previous, `${t.url}/v6/jobs/?page=2&page_size=3`);
      assert.deepEqual(ids(await list('?page_size=3&page=last')), ids(third));
      expectDetail(await t.request('GET', '/v6/jobs/?page=9'), 404, 'Invalid page.');
      expectDetail(await t.request('GET', '/v6/jobs/?page=x'), 404, 'Invalid page.');
      assert.equal((await list('?page_size=0')).results.length, 7, 'a bad page_size means 100');
      assert.equal((await list('?page_size=5000')).results.length, 7);
      const empty = await list('?status=NOPE');
      assert.deepEqual(empty, { count: 0, next: null, previous: null, results: [] });
    });

    it('ignores unknown parameters, serves /api/v6 too, and redirects without the slash', async () => {
      assert.equal((await list('?include_superseded=true&job_type_version=1')).count, 7);
      const prefixed = expectStatus(await t.request('GET', '/api/v6/jobs/?page_size=1'), 200).body;
      assert.equal(prefixed.count, 7);
      assert.equal(prefixed.next, `${t.url}/api/v6/jobs/?page=2&page_size=1`);
      const raw = await fetch(`${t.url}/v6/jobs?page_size=1`, { redirect: 'manual' });
      assert.equal(raw.status, 301);
      assert.equal(raw.headers.get('location'), '/v6/jobs/?page_size=1');
      expectDetail(await t.request('GET', '/v6/nothing-here/'), 404, 'Not found.');
    });
  });
}
