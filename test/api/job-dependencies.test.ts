import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  acquire,
  expectError,
  expectStatus,
  getJob,
  register,
  submit,
  tasksOf,
} from './support.js';

/* PATCH /api/v1/jobs/:id {dependencies}: replacing what a job waits on after submission. */

for (const database of TEST_DATABASES) {
  describe(`native API: changing dependencies (${database.name})`, () => {
    let t: TestServer;
    const patch = (id: number, body: unknown) => t.request('PATCH', `/api/v1/jobs/${id}`, body);
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('pends a queued job on an incomplete dependency and releases it when the list is met', async () => {
      const first = await submit(t, { name: 'first' });
      const job = await submit(t, { name: 'second', frames: '1-2' });
      assert.equal(job.state, 'QUEUED');

      let res = expectStatus(await patch(job.id, { dependencies: [first.id] }), 200);
      assert.equal(res.body.state, 'PENDING');
      assert.equal(res.body.pendReason, 'DEPENDENCIES');
      assert.deepEqual(res.body.dependencies, [first.id]);
      assert.equal(res.body.tasks.pending, 2);
      const reasons = expectStatus(
        await t.request('GET', `/api/v1/jobs/${job.id}/waiting-reasons`),
        200,
      ).body;
      assert.deepEqual(reasons.reasons, [
        { code: 'DEPENDENCIES_PENDING', message: `waiting for job ${first.id} to complete` },
      ]);

      // A completed dependency instead: released at once.
      const done = await submit(t, { name: 'done' });
      expectStatus(await t.request('POST', `/api/v1/jobs/${done.id}/complete`), 200);
      res = expectStatus(await patch(job.id, { dependencies: [done.id] }), 200);
      assert.equal(res.body.state, 'QUEUED');
      assert.equal(res.body.pendReason, null);
      assert.deepEqual(res.body.dependencies, [done.id]);
      assert.deepEqual(
        (await tasksOf(t, job.id)).map((x) => x.state),
        ['QUEUED', 'QUEUED'],
      );

      // Other settings ride along in the same PATCH; [] removes every dependency.
      res = expectStatus(await patch(job.id, { dependencies: [], priority: 70 }), 200);
      assert.deepEqual(res.body.dependencies, []);
      assert.equal(res.body.priority, 70);
      assert.deepEqual((await getJob(t, job.id)).dependencies, []);
    });

    it('answers 400 with the reason for unknown ids, the job itself and cycles', async () => {
      const a = await submit(t, { name: 'a' });
      const b = await submit(t, { name: 'b', dependencies: [a.id] });
      const c = await submit(t, { name: 'c', dependencies: [b.id] });

      let res = expectError(await patch(a.id, { dependencies: [999999] }), 400, 'VALIDATION');
      assert.match(res.body.message, /dependencies refer to jobs that do not exist: 999999/);
      res = expectError(await patch(a.id, { dependencies: [a.id] }), 400, 'VALIDATION');
      assert.match(res.body.message, new RegExp(`cannot depend on itself \\(job ${a.id}\\)`));
      res = expectError(await patch(a.id, { dependencies: [c.id] }), 400, 'VALIDATION');
      assert.equal(
        res.body.message,
        `dependencies would make a cycle: job ${a.id} would wait on job ${c.id}, which waits on job ${b.id}, which waits on job ${a.id}`,
      );
      const after = await getJob(t, a.id);
      assert.deepEqual(after.dependencies, []);
      assert.equal(after.state, 'QUEUED');

      // The schema: a list of positive integers.
      for (const bad of [['x'], [0], [-3], [1.5], 'a,b', { id: 1 }, null]) {
        res = expectError(await patch(a.id, { dependencies: bad }), 400, 'VALIDATION');
        assert.match(res.body.message, /dependencies/, JSON.stringify(bad));
      }
      expectError(await patch(999999, { dependencies: [] }), 404, 'NOT_FOUND');
    });

    it('a running job keeps its state with its new list', async () => {
      const blocker = await submit(t, { name: 'blocker', priority: 0 });
      const busy = await submit(t, { name: 'busy', frames: '1-2', priority: 99 });
      const node = await register(t, 'n-deps');
      const order = await acquire(t, node.id);
      assert.equal(order?.job.id, busy.id);
      const res = expectStatus(await patch(busy.id, { dependencies: [blocker.id] }), 200);
      assert.equal(res.body.state, 'RUNNING');
      assert.deepEqual(res.body.dependencies, [blocker.id]);
      assert.equal(res.body.tasks.running, 1);
    });

    it('onDependencyFailure: submitted, shown, changed, and refused when unknown', async () => {
      const a = await submit(t, { name: 'fails' });
      const canceled = await submit(t, { name: 'cancel', dependencies: [a.id] });
      assert.equal(canceled.onDependencyFailure, 'CANCEL', 'the default');
      const waits = await submit(t, {
        name: 'wait',
        dependencies: [a.id],
        onDependencyFailure: 'WAIT',
      });
      assert.equal(waits.onDependencyFailure, 'WAIT');
      expectStatus(await t.request('POST', `/api/v1/jobs/${a.id}/fail`), 200);

      const gone = await getJob(t, canceled.id);
      assert.equal(gone.state, 'CANCELED');
      assert.equal(gone.error.name, 'dependency-failed');
      assert.match(gone.error.message, new RegExp(`job ${a.id} \\(fails\\).* failed`));
      const reasons = expectStatus(
        await t.request('GET', `/api/v1/jobs/${waits.id}/waiting-reasons`),
        200,
      ).body.reasons;
      assert.equal(reasons[0].code, 'DEPENDENCY_FAILED');
      assert.match(reasons[0].message, /until it is retried and completes/);

      const res = expectStatus(await patch(waits.id, { onDependencyFailure: 'RUN' }), 200);
      assert.equal(res.body.onDependencyFailure, 'RUN');
      assert.equal(res.body.state, 'QUEUED');

      for (const bad of ['cancel', 'LATER', 3, null]) {
        const r = expectError(
          await t.request('POST', '/api/v1/jobs', {
            type: 'command-line',
            parameters: { executable: 'echo' },
            onDependencyFailure: bad,
          }),
          400,
          'VALIDATION',
          JSON.stringify(bad),
        );
        assert.match(r.body.message, /onDependencyFailure/);
        expectError(await patch(a.id, { onDependencyFailure: bad }), 400, 'VALIDATION');
      }
    });

    it('frameDependent: a queued job whose tasks wait on the same frames', async () => {
      const a = await submit(t, { name: 'a', frames: '1-10', chunkSize: 5 });
      const b = await submit(t, {
        name: 'b',
        frames: '1-10',
        dependencies: [a.id],
        frameDependent: true,
      });
      assert.equal(b.state, 'QUEUED');
      assert.equal(b.frameDependent, true);
      assert.equal(b.tasks.pending, 10);
      const reasons = expectStatus(
        await t.request('GET', `/api/v1/jobs/${b.id}/waiting-reasons`),
        200,
      ).body.reasons;
      assert.equal(reasons[0].code, 'FRAMES_PENDING');
      const [first] = await tasksOf(t, a.id);
      expectStatus(await t.request('POST', `/api/v1/tasks/${first.id}/complete`), 200);
      assert.deepEqual(
        (await tasksOf(t, b.id)).map((x) => x.state),
        [...Array(5).fill('QUEUED'), ...Array(5).fill('PENDING')],
      );
      const r = expectError(
        await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          parameters: { executable: 'echo' },
          frameDependent: 'yes',
        }),
        400,
        'VALIDATION',
      );
      assert.match(r.body.message, /frameDependent/);
    });

    it('the OpenAPI document describes the field', async () => {
      const doc = expectStatus(await t.request('GET', '/docs/json'), 200).body;
      const body =
        doc.paths['/api/v1/jobs/{id}'].patch.requestBody.content['application/json'].schema;
      const field = body.properties.dependencies;
      assert.equal(field.type, 'array');
      assert.equal(field.items.type, 'integer');
      assert.match(field.description, /Replaces the ids of the jobs this job waits on/);
    });
  });
}
