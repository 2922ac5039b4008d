/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  acquire,
  executionsOf,
  expectError,
  expectStatus,
  getJob,
  register,
  report,
  submit,
  tasksOf,
} from './support.js';

const HOUR = 3_600_000;

/** Task states of a job in index order. */
async function taskStates(t: TestServer, jobId: number): Promise<string[]> {
  return (await tasksOf(t, jobId)).map((task) => task.state);
}

async function act(t: TestServer, jobId: number, action: string): Promise<any> {
  const res = await t.request('POST', `/api/v1/jobs/${jobId}/${action}`);
  return expectStatus(res, 200, action).body;
}

async function listIds(t: TestServer, query: string): Promise<{ ids: number[]; total: number }> {
  const res = expectStatus(await t.request('GET', `/api/v1/jobs?${query}`), 200, query);
  return { ids: res.body.items.map((j: any) => j.id), total: res.body.total };
}

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

for (const database of TEST_DATABASES) {
  describe(`native API: job submission and lists (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('submits a job: 201, Location, and one task per chunk of frames', async () => {
      const res = await t.request('POST', '/api/v1/jobs', {
        type: 'command-line',
        name: 'chunks',
        frames: '1-20',
        chunkSize: 2,
        parameters: { executable: 'echo', arguments: ['{start}', '{end}'] },
      });
      expectStatus(res, 201);
      const job = res.body;
      assert.equal(res.headers.get('location'), `/api/v1/jobs/${job.id}`);
      assert.equal(job.name, 'chunks');
      assert.equal(job.state, 'QUEUED');
      assert.equal(job.user, 'local');
      assert.equal(job.type.name, 'command-line');
      assert.equal(job.frames, '1-20');
      assert.equal(job.chunkSize, 2);
      assert.equal(job.priority, 50);
      assert.equal(job.maxTries, 3);
      assert.equal(job.deleted, false);
      assert.equal(job.progress, 0);
      assert.deepEqual(job.parameters, { executable: 'echo', arguments: ['{start}', '{end}'] });
      assert.deepEqual(job.tasks, {
        total: 10,
        pending: 0,
        queued: 10,
        running: 0,
        suspended: 0,
        completed: 0,
        failed: 0,
        canceled: 0,
      });
      assert.deepEqual(job.dependencies, []);
      assert.deepEqual(job.nodeList, { mode: 'NONE', nodes: [] });

      const tasks = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}/tasks`), 200);
      assert.equal(tasks.body.total, 10);
      assert.deepEqual(
        tasks.body.items.map((x: any) => x.frames),
        ['1-2', '3-4', '5-6', '7-8', '9-10', '11-12', '13-14', '15-16', '17-18', '19-20'],
      );
      assert.deepEqual(
        tasks.body.items.map((x: any) => x.index),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.deepEqual(tasks.body.items.map((x: any) => [x.frameStart, x.frameEnd]).slice(0, 2), [
        [1, 2],
        [3, 4],
      ]);
      assert.ok(tasks.body.items.every((x: any) => x.state === 'QUEUED' && x.jobId === job.id));
      assert.ok(tasks.body.items.every((x: any) => x.tries === 0 && x.nodeId === null));

      const page = expectStatus(
        await t.request('GET', `/api/v1/jobs/${job.id}/tasks?limit=3&offset=9`),
        200,
      );
      assert.equal(page.body.total, 10);
      assert.deepEqual(
        page.body.items.map((x: any) => x.frames),
        ['19-20'],
      );

      const oneTask = expectStatus(
        await t.request('GET', `/api/v1/tasks/${tasks.body.items[4].id}`),
        200,
      );
      assert.equal(oneTask.body.frames, '9-10');
    });

    it('makes one task for a job without frames, and odd chunks for uneven frame lists', async () => {
      const single = await submit(t, { name: 'no frames' });
      assert.equal(single.tasks.total, 1);
      const tasks = await tasksOf(t, single.id);
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0].frames, '');

      const uneven = await submit(t, { name: 'uneven', frames: '1-10x3,20', chunkSize: 3 });
      // Frames 1,4,7,10,20 in chunks of 3: "1,4,7" and "10,20" (Deadline-style labels).
      const labels = (await tasksOf(t, uneven.id)).map((x) => x.frames);
      assert.equal(labels.length, 2);
      assert.equal(uneven.tasks.total, 2);
      assert.deepEqual(
        (await tasksOf(t, uneven.id)).map((x) => [x.frameStart, x.frameEnd]),
        [
          [1, 7],
          [10, 20],
        ],
      );

      // Clean up so the list tests below see only their own jobs.
      for (const id of [single.id, uneven.id]) {
        expectStatus(await t.request('DELETE', `/api/v1/jobs/${id}`), 204);
        expectStatus(await t.request('DELETE', `/api/v1/jobs/${id}?purge=true`), 204);
      }
    });

    const jobs: Record<string, any> = {};
    let t0 = 0;

    it('lists jobs with every filter', async () => {
      // Purge the job of the first test too, so this one sees exactly its own five.
      for (const j of (await t.request('GET', '/api/v1/jobs?deleted=include')).body.items) {
        await t.request('DELETE', `/api/v1/jobs/${j.id}`);
        await t.request('DELETE', `/api/v1/jobs/${j.id}?purge=true`);
      }
      t0 = t.clock.now;
      jobs.a = await submit(t, {
        name: 'Alpha comp',
        user: 'alice',
        pool: 'gpu',
        group: 'g1',
        priority: 10,
      });
      t.clock.advance(HOUR);
      jobs.b = await submit(t, {
        type: 'shell-script',
        parameters: { script: 'true' },
        name: 'beta render',
        user: 'bob',
        pool: 'cpu',
        group: 'g2',
        priority: 90,
      });
      t.clock.advance(HOUR);
      jobs.c = await submit(t, {
        name: 'Gamma ALPHA',
        user: 'alice',
        pool: 'cpu',
        group: 'g1',
        initialState: 'SUSPENDED',
      });
      t.clock.advance(HOUR);
      jobs.d = await submit(t, { name: 'delta 100%', user: 'carol' });
      t.clock.advance(HOUR);
      jobs.e = await submit(t, { name: 'epsilon', user: 'bob', initialState: 'PENDING' });
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${jobs.d.id}`), 204);
      const { a, b, c, d, e } = jobs;
      assert.equal(c.state, 'SUSPENDED');
      assert.equal(e.state, 'PENDING');
      assert.equal(e.pendReason, 'MANUAL');

      const ids = async (q: string) => sorted((await listIds(t, q)).ids);

      // No filter: deleted jobs are excluded by default.
      assert.deepEqual(await ids(''), sorted([a.id, b.id, c.id, e.id]));
      assert.equal((await listIds(t, '')).total, 4);

      // state: one, a comma list (any case), repeated parameters.
      assert.deepEqual(await ids('state=QUEUED'), sorted([a.id, b.id]));
      assert.deepEqual(await ids('state=queued,suspended'), sorted([a.id, b.id, c.id]));
      assert.deepEqual(await ids('state=PENDING&state=SUSPENDED'), sorted([c.id, e.id]));
      assert.deepEqual(await ids('state=COMPLETED'), []);

      // user
      assert.deepEqual(await ids('user=alice'), sorted([a.id, c.id]));
      assert.deepEqual(await ids('user=alice,bob'), sorted([a.id, b.id, c.id, e.id]));
      assert.deepEqual(await ids('user=carol'), []); // carol's job is deleted

      // type (by name)
      assert.deepEqual(await ids('type=shell-script'), [b.id]);
      assert.deepEqual(await ids('type=command-line'), sorted([a.id, c.id, e.id]));
      assert.deepEqual(await ids('type=no-such-type'), []);

      // pool and group
      assert.deepEqual(await ids('pool=cpu'), sorted([b.id, c.id]));
      assert.deepEqual(await ids('pool=gpu'), [a.id]);
      assert.deepEqual(await ids('group=g1'), sorted([a.id, c.id]));
      assert.deepEqual(await ids('pool=cpu&group=g1'), [c.id]);

      // q: case-insensitive substring of the name; LIKE wildcards are literal
      assert.deepEqual(await ids('q=alpha'), sorted([a.id, c.id]));
      assert.deepEqual(await ids('q=RENDER'), [b.id]);
      assert.deepEqual(await ids('q=%25'), []);
      assert.deepEqual(await ids('q=100%25&deleted=include'), [d.id]);
      assert.deepEqual(await ids('q=_'), []);

      // createdAfter (inclusive) / createdBefore (exclusive)
      const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
      assert.deepEqual(await ids(`createdAfter=${at(t0 + HOUR)}`), sorted([b.id, c.id, e.id]));
      assert.deepEqual(await ids(`createdBefore=${at(t0 + 2 * HOUR)}`), sorted([a.id, b.id]));
      assert.deepEqual(
        await ids(`createdAfter=${at(t0 + HOUR)}&createdBefore=${at(t0 + 2 * HOUR)}`),
        [b.id],
      );
      assert.deepEqual(
        await ids(`createdAfter=${at(t0 + 3 * HOUR)}&deleted=include`),
        sorted([d.id, e.id]),
      );

      // deleted
      assert.deepEqual(await ids('deleted=exclude'), sorted([a.id, b.id, c.id, e.id]));
      assert.deepEqual(await ids('deleted=include'), sorted([a.id, b.id, c.id, d.id, e.id]));
      assert.deepEqual(await ids('deleted=only'), [d.id]);
      const onlyDeleted = (await t.request('GET', '/api/v1/jobs?deleted=only')).body.items[0];
      assert.equal(onlyDeleted.deleted, true);
      assert.equal(onlyDeleted.deletedAt, new Date(t0 + 4 * HOUR).toISOString());

      // filters combine
      assert.deepEqual(await ids('user=bob&state=PENDING'), [e.id]);
      assert.deepEqual(await ids('user=alice&q=gamma&pool=cpu&state=SUSPENDED'), [c.id]);
    });

    it('sorts by several fields; the default is newest first', async () => {
      const { a, b, c, e } = jobs;
      // priorities: a 10, b 90, c 50, e 50 (c created before e)
      assert.deepEqual((await listIds(t, 'sort=-priority,created_at')).ids, [
        b.id,
        c.id,
        e.id,
        a.id,
      ]);
      assert.deepEqual((await listIds(t, 'sort=-priority,-created_at')).ids, [
        b.id,
        e.id,
        c.id,
        a.id,
      ]);
      assert.deepEqual((await listIds(t, 'sort=priority')).ids, [a.id, c.id, e.id, b.id]);
      // Ties are broken by id, in the direction of the first sort field.
      assert.deepEqual((await listIds(t, 'sort=user_name')).ids, [a.id, c.id, b.id, e.id]);
      assert.deepEqual((await listIds(t, 'sort=-user_name')).ids, [e.id, b.id, c.id, a.id]);
      assert.deepEqual((await listIds(t, 'sort=state,-id')).ids, [e.id, b.id, a.id, c.id]);
      assert.deepEqual((await listIds(t, '')).ids, [e.id, c.id, b.id, a.id]);
      assert.deepEqual((await listIds(t, 'sort=id')).ids, [a.id, b.id, c.id, e.id]);
    });

    it('paginates with limit, offset and total, without overlap', async () => {
      // More jobs, some with equal priorities, so ties must be broken consistently.
      for (let i = 0; i < 9; i++) await submit(t, { name: `page ${i}`, priority: i % 3 });
      const all = await listIds(t, 'limit=1000');
      assert.equal(all.total, 13);
      for (const sort of ['', 'sort=priority', 'sort=-priority,name', 'sort=state']) {
        const seen: number[] = [];
        for (let offset = 0; offset < 13; offset += 5) {
          const res = expectStatus(
            await t.request('GET', `/api/v1/jobs?limit=5&offset=${offset}&${sort}`),
            200,
          );
          assert.equal(res.body.total, 13);
          assert.equal(res.body.limit, 5);
          assert.equal(res.body.offset, offset);
          assert.equal(res.body.items.length, Math.min(5, 13 - offset));
          seen.push(...res.body.items.map((j: any) => j.id));
        }
        assert.equal(new Set(seen).size, 13, `pages overlap with ${sort || 'default sort'}`);
        assert.deepEqual(sorted(seen), sorted(all.ids));
      }
      const past = expectStatus(await t.request('GET', '/api/v1/jobs?limit=5&offset=100'), 200);
      assert.deepEqual(past.body.items, []);
      assert.equal(past.body.total, 13);
    });

    it('changes settings with PATCH', async () => {
      const job = await submit(t, { name: 'patch me', frames: '1-3' });
      t.clock.advance(1000);
      const res = await t.request('PATCH', `/api/v1/jobs/${job.id}`, {
        name: 'patched',
        comment: 'urgent',
        department: 'lighting',
        priority: 80,
        pool: 'gpu',
        group: 'g9',
        machineLimit: 2,
        allowList: ['n1', 'n2'],
        maxTries: 7,
        taskTimeout: 600,
        jobTimeout: 3600,
      });
      expectStatus(res, 200);
      const p = res.body;
      assert.equal(p.name, 'patched');
      assert.equal(p.comment, 'urgent');
      assert.equal(p.department, 'lighting');
      assert.equal(p.priority, 80);
      assert.equal(p.pool, 'gpu');
      assert.equal(p.group, 'g9');
      assert.equal(p.machineLimit, 2);
      assert.deepEqual(p.nodeList, { mode: 'ALLOW', nodes: ['n1', 'n2'] });
      assert.equal(p.maxTries, 7);
      assert.equal(p.taskTimeout, 600);
      assert.equal(p.jobTimeout, 3600);
      assert.equal(p.state, 'QUEUED'); // settings never move the state
      assert.equal(p.lastModified, new Date(t.clock.now).toISOString());
      assert.equal(p.lastStatusChange, job.lastStatusChange);

      const again = await getJob(t, job.id);
      assert.equal(again.priority, 80);
      assert.deepEqual(again.nodeList, { mode: 'ALLOW', nodes: ['n1', 'n2'] });

      const deny = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { denyList: ['n3'] }),
        200,
      );
      assert.deepEqual(deny.body.nodeList, { mode: 'DENY', nodes: ['n3'] });
      assert.equal(deny.body.priority, 80); // untouched fields stay

      const none = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { allowList: [] }),
        200,
      );
      assert.deepEqual(none.body.nodeList, { mode: 'NONE', nodes: [] });

      expectError(await t.request('PATCH', `/api/v1/jobs/${job.id}`, {}), 400, 'VALIDATION');
      expectError(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { allowList: ['a'], denyList: ['b'] }),
        400,
        'VALIDATION',
      );
      expectError(
        await t.request('PATCH', `/api/v1/jobs/${job.id}`, { state: 'COMPLETED' }),
        400,
        'VALIDATION',
      );
      expectError(
        await t.request('PATCH', '/api/v1/jobs/999999', { priority: 1 }),
        404,
        'NOT_FOUND',
      );
    });
  });

  describe(`native API: job actions (${database.name})`, () => {
    let t: TestServer;
    let node: any;
    before(async () => {
      t = await startTestServer(database);
      node = await register(t, 'actor', { slots: 100 });
    });
    after(async () => {
      await t?.close();
    });

    /** A job of `n` tasks whose first `running` tasks are held by the node. */
    async function jobWithRunning(n: number, running: number, extra = {}) {
      const job = await submit(t, { frames: `1-${n}`, priority: 100 + counter++, ...extra });
      const orders = [];
      for (let i = 0; i < running; i++) {
        const order = await acquire(t, node.id);
        assert.equal(order.job.id, job.id);
        expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
        orders.push(order);
      }
      // Lower the priority so later jobs are dispatched first.
      expectStatus(await t.request('PATCH', `/api/v1/jobs/${job.id}`, { priority: 0 }), 200);
      return { job, orders };
    }
    let counter = 0;

    const execState = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/executions/${id}`), 200).body.state;

    it('suspend: every unfinished task suspended, running work withdrawn', async () => {
      const { job, orders } = await jobWithRunning(4, 1);
      assert.equal((await getJob(t, job.id)).state, 'RUNNING');
      const j = await act(t, job.id, 'suspend');
      assert.equal(j.state, 'SUSPENDED');
      assert.deepEqual(await taskStates(t, job.id), [
        'SUSPENDED',
        'SUSPENDED',
        'SUSPENDED',
        'SUSPENDED',
      ]);
      assert.equal(j.tasks.suspended, 4);
      assert.equal(j.tasks.running, 0);
      assert.equal(await execState(orders[0].execution.id), 'CANCELED');
      // Nothing of a suspended job is dispatched.
      assert.equal(await acquire(t, node.id), undefined);

      const r = await act(t, job.id, 'resume');
      assert.equal(r.state, 'QUEUED');
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
      assert.equal(r.tasks.queued, 4);
      // The withdrawn execution cannot report any more.
      expectError(
        await report(t, orders[0].execution.id, 'finish', { nodeId: node.id, success: true }),
        409,
        'STALE_LEASE',
      );
      expectStatus(await t.request('POST', `/api/v1/jobs/${job.id}/cancel`), 200);
    });

    it('suspend-queued: running tasks go on and may finish, the rest is suspended', async () => {
      const { job, orders } = await jobWithRunning(3, 1);
      const j = await act(t, job.id, 'suspend-queued');
      assert.equal(j.state, 'SUSPENDED');
      assert.deepEqual(await taskStates(t, job.id), ['RUNNING', 'SUSPENDED', 'SUSPENDED']);
      assert.equal(await execState(orders[0].execution.id), 'RUNNING');
      const fin = await report(t, orders[0].execution.id, 'finish', {
        nodeId: node.id,
        success: true,
      });
      expectStatus(fin, 200);
      assert.equal(fin.body.state, 'COMPLETED');
      assert.deepEqual(await taskStates(t, job.id), ['COMPLETED', 'SUSPENDED', 'SUSPENDED']);
      const after = await getJob(t, job.id);
      assert.equal(after.state, 'SUSPENDED');
      assert.equal(after.tasks.completed, 1);
      const r = await act(t, job.id, 'resume');
      assert.equal(r.state, 'QUEUED');
      assert.deepEqual(await taskStates(t, job.id), ['COMPLETED', 'QUEUED', 'QUEUED']);
      await act(t, job.id, 'cancel');
    });

    it('resume-failed: a failed job and its failed tasks back to the queue with tries forgotten', async () => {
      const { job, orders } = await jobWithRunning(2, 1, { maxTries: 1 });
      const fail = await report(t, orders[0].execution.id, 'finish', {
        nodeId: node.id,
        success: false,
        exitCode: 1,
      });
      expectStatus(fail, 200);
      const failed = await getJob(t, job.id);
      assert.equal(failed.state, 'FAILED');
      assert.equal(failed.error.name, 'algorithm-unknown');
      assert.deepEqual(await taskStates(t, job.id), ['FAILED', 'QUEUED']);
      assert.equal((await tasksOf(t, job.id))[0].tries, 1);

      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/resume`),
        409,
        'ILLEGAL_TRANSITION',
      );

      const r = await act(t, job.id, 'resume-failed');
      assert.equal(r.state, 'QUEUED');
      assert.equal(r.error, null);
      assert.equal(r.endedAt, null);
      const tasks = await tasksOf(t, job.id);
      assert.deepEqual(
        tasks.map((x) => [x.state, x.tries]),
        [
          ['QUEUED', 0],
          ['QUEUED', 0],
        ],
      );
      await act(t, job.id, 'cancel');
    });

    it('requeue: a completed job runs again from scratch', async () => {
      const { job, orders } = await jobWithRunning(2, 2);
      for (const o of orders) {
        expectStatus(
          await report(t, o.execution.id, 'finish', { nodeId: node.id, success: true }),
          200,
        );
      }
      const done = await getJob(t, job.id);
      assert.equal(done.state, 'COMPLETED');
      assert.equal(done.progress, 100);
      assert.notEqual(done.endedAt, null);
      const r = await act(t, job.id, 'requeue');
      assert.equal(r.state, 'QUEUED');
      assert.equal(r.endedAt, null);
      assert.equal(r.startedAt, null);
      assert.equal(r.tasks.queued, 2);
      assert.equal(r.tasks.completed, 0);
      assert.equal(r.progress, 0);
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED']);
      assert.ok((await tasksOf(t, job.id)).every((x) => x.progress === 0 && x.tries === 0));

      // Requeue of a running job withdraws its running work.
      const again = await acquire(t, node.id);
      assert.equal(again.job.id, job.id);
      const rr = await act(t, job.id, 'requeue');
      assert.equal(rr.state, 'QUEUED');
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED']);
      assert.equal(await execState(again.execution.id), 'CANCELED');
      await act(t, job.id, 'cancel');
    });

    it('pend and release', async () => {
      const { job, orders } = await jobWithRunning(3, 1);
      const p = await act(t, job.id, 'pend');
      assert.equal(p.state, 'PENDING');
      assert.equal(p.pendReason, 'MANUAL');
      assert.deepEqual(await taskStates(t, job.id), ['PENDING', 'PENDING', 'PENDING']);
      assert.equal(p.tasks.pending, 3);
      assert.equal(await execState(orders[0].execution.id), 'CANCELED');
      assert.equal(await acquire(t, node.id), undefined);

      const r = await act(t, job.id, 'release');
      assert.equal(r.state, 'QUEUED');
      assert.equal(r.pendReason, null);
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED', 'QUEUED']);
      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/release`),
        409,
        'ILLEGAL_TRANSITION',
      );
      await act(t, job.id, 'cancel');
    });

    it('cancel: unfinished tasks canceled, finished ones kept, running work withdrawn', async () => {
      const { job, orders } = await jobWithRunning(4, 2);
      expectStatus(
        await report(t, orders[0].execution.id, 'finish', { nodeId: node.id, success: true }),
        200,
      );
      const c = await act(t, job.id, 'cancel');
      assert.equal(c.state, 'CANCELED');
      assert.notEqual(c.endedAt, null);
      assert.deepEqual(await taskStates(t, job.id), [
        'COMPLETED',
        'CANCELED',
        'CANCELED',
        'CANCELED',
      ]);
      assert.equal(c.tasks.canceled, 3);
      assert.equal(c.tasks.completed, 1);
      assert.equal(await execState(orders[0].execution.id), 'COMPLETED');
      assert.equal(await execState(orders[1].execution.id), 'CANCELED');
      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/cancel`),
        409,
        'ILLEGAL_TRANSITION',
      );
      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/suspend`),
        409,
        'ILLEGAL_TRANSITION',
      );
      // A canceled job can be requeued.
      const rq = await act(t, job.id, 'requeue');
      assert.equal(rq.state, 'QUEUED');
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);
      await act(t, job.id, 'cancel');
    });

    it('complete: marks every task completed', async () => {
      const { job, orders } = await jobWithRunning(3, 1);
      const c = await act(t, job.id, 'complete');
      assert.equal(c.state, 'COMPLETED');
      assert.equal(c.tasks.completed, 3);
      assert.equal(c.progress, 100);
      assert.equal(c.error, null);
      assert.deepEqual(await taskStates(t, job.id), ['COMPLETED', 'COMPLETED', 'COMPLETED']);
      assert.equal(await execState(orders[0].execution.id), 'CANCELED');
      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/complete`),
        409,
        'ILLEGAL_TRANSITION',
      );
    });

    it('fail: marks unfinished tasks failed with an error', async () => {
      const { job, orders } = await jobWithRunning(3, 2);
      expectStatus(
        await report(t, orders[0].execution.id, 'finish', { nodeId: node.id, success: true }),
        200,
      );
      const f = await act(t, job.id, 'fail');
      assert.equal(f.state, 'FAILED');
      assert.deepEqual(f.error, { name: 'unknown', message: 'marked failed by hand' });
      assert.deepEqual(await taskStates(t, job.id), ['COMPLETED', 'FAILED', 'FAILED']);
      assert.equal(f.tasks.failed, 2);
      assert.equal(await execState(orders[1].execution.id), 'CANCELED');
      expectError(
        await t.request('POST', `/api/v1/jobs/${job.id}/fail`),
        409,
        'ILLEGAL_TRANSITION',
      );
      // resume-failed brings the failed ones back; the completed one stays.
      const r = await act(t, job.id, 'resume-failed');
      assert.equal(r.state, 'QUEUED');
      assert.deepEqual(await taskStates(t, job.id), ['COMPLETED', 'QUEUED', 'QUEUED']);
      await act(t, job.id, 'cancel');
    });

    it('an illegal action changes nothing', async () => {
      const job = await submit(t, { frames: '1-2', priority: 0 });
      const before = await getJob(t, job.id);
      const res = await t.request('POST', `/api/v1/jobs/${job.id}/resume`);
      expectError(res, 409, 'ILLEGAL_TRANSITION');
      assert.match(res.body.message, /cannot resume job \d+: it is QUEUED/);
      assert.deepEqual(await getJob(t, job.id), before);
      expectError(await t.request('POST', `/api/v1/jobs/${job.id}/explode`), 400, 'VALIDATION');
      expectError(await t.request('POST', '/api/v1/jobs/999999/suspend'), 404, 'NOT_FOUND');
      await act(t, job.id, 'cancel');
    });

    it('DELETE is soft: hidden from lists, work withdrawn, undelete restores it', async () => {
      const { job, orders } = await jobWithRunning(2, 1);
      const res = await t.request('DELETE', `/api/v1/jobs/${job.id}`);
      expectStatus(res, 204);
      assert.equal(res.body, undefined);

      const deleted = await getJob(t, job.id);
      assert.equal(deleted.deleted, true);
      assert.equal(deleted.deletedAt, new Date(t.clock.now).toISOString());
      assert.equal(deleted.state, 'RUNNING'); // deletion is a flag beside the state
      assert.deepEqual(await taskStates(t, job.id), ['QUEUED', 'QUEUED']);
      assert.equal(await execState(orders[0].execution.id), 'CANCELED');
      assert.ok(!(await listIds(t, 'limit=1000')).ids.includes(job.id));
      assert.ok((await listIds(t, 'deleted=only&limit=1000')).ids.includes(job.id));
      // A deleted job is never dispatched.
      assert.equal(await acquire(t, node.id), undefined);
      // Deleting again is harmless.
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${job.id}`), 204);

      const u = await act(t, job.id, 'undelete');
      assert.equal(u.deleted, false);
      assert.equal(u.deletedAt, null);
      assert.ok((await listIds(t, 'limit=1000')).ids.includes(job.id));
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, job.id);
      await act(t, job.id, 'cancel');
    });

    it('DELETE ?purge=true removes a deleted job for good; a live one is refused', async () => {
      const job = await submit(t, { frames: '1-3', priority: 0 });
      const refused = await t.request('DELETE', `/api/v1/jobs/${job.id}?purge=true`);
      expectError(refused, 409, 'CONFLICT');
      assert.match(refused.body.message, /not deleted/);
      assert.equal((await getJob(t, job.id)).deleted, false);

      expectStatus(await t.request('DELETE', `/api/v1/jobs/${job.id}`), 204);
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${job.id}?purge=true`), 204);
      expectError(await t.request('GET', `/api/v1/jobs/${job.id}`), 404, 'NOT_FOUND');
      expectError(await t.request('GET', `/api/v1/jobs/${job.id}/tasks`), 404, 'NOT_FOUND');
      expectError(await t.request('DELETE', `/api/v1/jobs/${job.id}`), 404, 'NOT_FOUND');
      expectError(await t.request('POST', `/api/v1/jobs/${job.id}/undelete`), 404, 'NOT_FOUND');
      assert.ok(!(await listIds(t, 'deleted=include&limit=1000')).ids.includes(job.id));
      assert.equal((await executionsOf(t, job.id)).length, 0);
    });
  });

  describe(`native API: waiting reasons (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const reasons = async (jobId: number) => {
      const res = expectStatus(
        await t.request('GET', `/api/v1/jobs/${jobId}/waiting-reasons`),
        200,
      );
      for (const r of res.body.reasons) assert.ok(r.message.length > 0);
      return res.body.reasons as { code: string; message: string }[];
    };
    const codes = async (jobId: number) => (await reasons(jobId)).map((r) => r.code);

    it('explains each reason a job waits', async () => {
      const plain = await submit(t, { name: 'plain', frames: '1-2' });
      assert.deepEqual(await codes(plain.id), ['NO_NODE_ONLINE']);

      const node = await register(t, 'wr-node', { cpus: 4, mem: 1024, gpus: 0 });
      const inPool = await submit(t, { name: 'pool', pool: 'gpu' });
      const r1 = await reasons(inPool.id);
      assert.deepEqual(
        r1.map((r) => r.code),
        ['NO_NODE_IN_POOL_OR_GROUP'],
      );
      assert.match(r1[0]!.message, /pool "gpu"/);
      const inGroup = await submit(t, { name: 'group', group: 'farm-b' });
      assert.deepEqual(await codes(inGroup.id), ['NO_NODE_IN_POOL_OR_GROUP']);

      const allowed = await submit(t, { name: 'allow', allowList: ['elsewhere'] });
      const r2 = await reasons(allowed.id);
      assert.deepEqual(
        r2.map((r) => r.code),
        ['NO_NODE_ALLOWED'],
      );
      assert.match(r2[0]!.message, /elsewhere/);
      const denied = await submit(t, { name: 'deny', denyList: ['wr-node'] });
      assert.deepEqual(await codes(denied.id), ['NO_NODE_ALLOWED']);

      const big = await submit(t, { name: 'big', resources: { gpus: 2 } });
      const r3 = await reasons(big.id);
      assert.deepEqual(
        r3.map((r) => r.code),
        ['RESOURCES_TOO_LARGE'],
      );
      assert.match(r3[0]!.message, /gpus 2/);

      // The node takes one task of a job limited to one machine; the other task waits.
      const limited = await submit(t, {
        name: 'limited',
        frames: '1-2',
        machineLimit: 1,
        priority: 99,
      });
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, limited.id);
      assert.deepEqual(await codes(limited.id), ['MACHINE_LIMIT_REACHED']);
      // The other job could run on the node, but the node is busy.
      assert.deepEqual(await codes(plain.id), ['NODES_BUSY']);

      const dependent = await submit(t, { name: 'dependent', dependencies: [plain.id] });
      assert.equal(dependent.state, 'PENDING');
      assert.equal(dependent.pendReason, 'DEPENDENCIES');
      assert.deepEqual(dependent.dependencies, [plain.id]);
      const r4 = await reasons(dependent.id);
      assert.deepEqual(
        r4.map((r) => r.code),
        ['DEPENDENCIES_PENDING'],
      );
      assert.equal(r4[0]!.message, `waiting for job ${plain.id} to complete`);

      const byHand = await submit(t, { name: 'by hand', initialState: 'PENDING' });
      assert.deepEqual(await codes(byHand.id), ['PENDED_BY_HAND']);
      await act(t, plain.id, 'pend');
      assert.deepEqual(await codes(plain.id), ['PENDED_BY_HAND']);

      // Not waiting at all: finished, and deleted jobs say so.
      await act(t, byHand.id, 'cancel');
      const canceled = await reasons(byHand.id);
      assert.deepEqual(canceled, [{ code: 'NOT_QUEUED', message: 'the job is CANCELED' }]);
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${byHand.id}`), 204);
      assert.deepEqual(await codes(byHand.id), ['DELETED', 'NOT_QUEUED']);

      // When the dependency completes, the dependent is released and no longer waits on it.
      await act(t, plain.id, 'complete');
      const released = await getJob(t, dependent.id);
      assert.equal(released.state, 'QUEUED');
      assert.ok(!(await codes(dependent.id)).includes('DEPENDENCIES_PENDING'));

      expectError(await t.request('GET', '/api/v1/jobs/999999/waiting-reasons'), 404, 'NOT_FOUND');
    });
  });
}
