/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { createJobType, manifest } from './scale/support.js';
import { expectStatus } from './support.js';

/*
 * Issue 13, "done when": a job submitted through each face (native, Deadline, UFDL, Scale) is
 * suspended, resumed, requeued, canceled and requeued again through each other face, and
 * after every step every face's reads of it (detail and lists) answer without a 5xx and
 * agree on its state, each in its own terms. A face without an action says so below and
 * the step is skipped:
 *   - Deadline has no cancel (its `fail` marks a job Failed, `delete` removes it; neither is
 *     a cancel, which Deadline shows as Failed).
 *   - UFDL has only cancel: no suspension, and its `reset` is the node's retry of an errored
 *     job, not a requeue by a user.
 *   - Scale has no suspension of single jobs; its requeue acts on FAILED and CANCELED jobs
 *     only, so the requeue of a queued job changes nothing, as the other faces' do.
 * No worker runs: every state here is reachable without one.
 */

type State = 'QUEUED' | 'RUNNING' | 'SUSPENDED' | 'CANCELED';
type Action = 'suspend' | 'resume' | 'requeue' | 'cancel';
type Face = 'native' | 'deadline' | 'ufdl' | 'scale';

const FACES: Face[] = ['native', 'deadline', 'ufdl', 'scale'];
const STEPS: { action: Action; then: State }[] = [
  { action: 'suspend', then: 'SUSPENDED' },
  { action: 'resume', then: 'QUEUED' },
  { action: 'requeue', then: 'QUEUED' },
  { action: 'cancel', then: 'CANCELED' },
  { action: 'requeue', then: 'QUEUED' },
];

/** Each face's name of a state: Deadline's Stat and States name, Scale's status. */
const DEADLINE_STAT: Record<State, number> = { QUEUED: 1, RUNNING: 1, SUSPENDED: 2, CANCELED: 4 };
const DEADLINE_STATES: Record<State, string> = {
  QUEUED: 'Active',
  RUNNING: 'Active',
  SUSPENDED: 'Suspended',
  CANCELED: 'Failed',
};
const DEADLINE_TASK_STAT: Record<State, number> = {
  QUEUED: 2,
  RUNNING: 4,
  SUSPENDED: 3,
  CANCELED: 6,
};
const DEADLINE_CHUNKS: Record<State, string> = {
  QUEUED: 'QueuedChunks',
  RUNNING: 'RenderingChunks',
  SUSPENDED: 'SuspendedChunks',
  CANCELED: 'FailedChunks',
};
const SCALE_STATUS: Record<State, string> = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  SUSPENDED: 'BLOCKED',
  CANCELED: 'CANCELED',
};

/** Scale requeues FAILED and CANCELED jobs only; every other requeue puts the job back. */
function expected(prior: State, by: Face, step: (typeof STEPS)[number]): State {
  if (by === 'scale' && step.action === 'requeue' && prior !== 'CANCELED') return prior;
  return step.then;
}

const hex = (id: number) => id.toString(16).padStart(24, '0');

for (const database of TEST_DATABASES) {
  describe(`every face's actions on every face's jobs (${database.name})`, () => {
    let t: DeadlineTestServer;
    let templatePk: number;
    let scaleTypeId: number;
    let nodeId: number;

    before(async () => {
      t = await startDeadlineTestServer(database);
      const type = expectStatus(
        await t.request('POST', '/api/v1/job-types', {
          name: 'ufdl-train',
          definition: {
            command: ['echo', '{input.dataset}'],
            inputs: [{ name: 'dataset', type: 'integer' }],
          },
        }),
        201,
      ).body;
      templatePk = type.id;
      const scaleType = await createJobType(
        t,
        manifest('cross-face', {
          job: {
            interface: { command: 'echo hi', inputs: { files: [], json: [] } },
          },
        }),
      );
      scaleTypeId = scaleType.id;
      nodeId = ok(await t.request('POST', '/api/v1/nodes', { name: 'render-01' }), 'node').id;
    });
    after(async () => {
      await t?.close();
    });

    const ok = (res: { status: number; body: any }, what: string, status = 200) => {
      assert.equal(res.status, status, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

    async function submit(face: Face): Promise<number> {
      switch (face) {
        case 'native':
          return ok(
            await t.request('POST', '/api/v1/jobs', {
              type: 'command-line',
              parameters: { executable: 'echo' },
              frames: '1-2',
            }),
            'native submit',
            201,
          ).id;
        case 'deadline': {
          const res = await t.dl('POST', '/api/jobs', {
            JobInfo: { Plugin: 'CommandLine', Name: 'dl', Frames: '1-2' },
            PluginInfo: { Executable: '/bin/true' },
            AuxFiles: [],
            IdOnly: true,
          });
          assert.equal(res.status, 200, res.text);
          return parseInt(res.body._id, 16);
        }
        case 'ufdl':
          return ok(
            await t.request('POST', `/v1/job-templates/${templatePk}/create-job`, {
              input_values: { dataset: { value: 7, type: 'PK<Dataset>' } },
              parameter_values: {},
              description: 'cross-face',
            }),
            'ufdl create-job',
          ).pk;
        case 'scale':
          return ok(
            await t.request('POST', '/v6/jobs/', {
              job_type_id: scaleTypeId,
              input: { version: '7', files: {}, json: {} },
            }),
            'scale queue',
            201,
          ).id;
      }
    }

    /** Applies the action through the face; false when the face has no such action. */
    async function act(face: Face, action: Action, id: number): Promise<boolean> {
      switch (face) {
        case 'native':
          ok(await t.request('POST', `/api/v1/jobs/${id}/${action}`), `native ${action}`);
          return true;
        case 'deadline': {
          if (action === 'cancel') return false;
          const res = await t.dl('PUT', '/api/jobs', { Command: action, JobID: hex(id) });
          assert.equal(res.status, 200, `deadline ${action}: ${res.text}`);
          assert.equal(res.text, 'Success');
          return true;
        }
        case 'ufdl':
          if (action !== 'cancel') return false;
          ok(await t.request('DELETE', `/v1/jobs/${id}/cancel`), 'ufdl cancel');
          return true;
        case 'scale': {
          if (action === 'suspend' || action === 'resume') return false;
          const res = await t.request('POST', `/v6/jobs/${action}/`, { job_ids: [id] });
          ok(res, `scale ${action}`, 202);
          return true;
        }
      }
    }

    async function get(path: string, what: string): Promise<any> {
      const res = await t.request('GET', path);
      assert.ok(res.status < 500, `${what}: GET ${path} answered ${res.status}`);
      return ok(res, `${what}: GET ${path}`);
    }

    /** Every face's reads of the job agree that it is in `state`. */
    /** Every face's reads of the job agree that it is in `state`; all are sent at once. */
    async function readsAgree(id: number, state: State, what: string): Promise<void> {
      const [
        native,
        nativeList,
        nativeTasks,
        ufdl,
        ufdlList,
        scale,
        scaleList,
        legacy,
        dlOne,
        dlStates,
        dlTasks,
        dlHistory,
      ] = await Promise.all([
        get(`/api/v1/jobs/${id}`, what),
        get(`/api/v1/jobs?state=${state}&limit=200`, what),
        get(`/api/v1/jobs/${id}/tasks?limit=100`, what),
        get(`/v1/jobs/${id}`, what),
        t.request('POST', '/v1/jobs/list'),
        get(`/v6/jobs/${id}/`, what),
        get(`/v6/jobs/?status=${SCALE_STATUS[state]}&job_ids=${id}`, what),
        get(`/jobs/${id}/`, what),
        t.dl('GET', `/api/jobs?JobID=${hex(id)}`),
        t.dl('GET', `/api/jobs?States=${DEADLINE_STATES[state]}&IdOnly=true`),
        t.dl('GET', `/api/tasks?JobID=${hex(id)}`),
        t.dl('GET', `/api/jobreports?JobID=${hex(id)}&Data=history`),
        ...[`/v6/jobs/${id}/executions/`, '/jobs/', '/jobs/updates/'].map((path) =>
          get(path, what),
        ),
      ]);

      assert.equal(native.state, state, `${what}: native state`);
      assert.ok(
        nativeList.items.some((j: any) => j.id === id),
        `${what}: native list by state`,
      );
      const tasks = nativeTasks.items as any[];
      assert.ok(tasks.length > 0, `${what}: native tasks`);
      for (const task of tasks) assert.equal(task.state, state, `${what}: native task state`);

      for (const res of [dlOne, dlStates, dlTasks, dlHistory]) {
        assert.equal(res.status, 200, `${what}: Deadline read: ${res.text}`);
      }
      assert.equal(dlOne.body[0].Stat, DEADLINE_STAT[state], `${what}: Deadline Stat`);
      assert.equal(
        dlOne.body[0][DEADLINE_CHUNKS[state]],
        tasks.length,
        `${what}: Deadline ${DEADLINE_CHUNKS[state]}`,
      );
      assert.ok(
        dlStates.body.includes(hex(id)),
        `${what}: Deadline States=${DEADLINE_STATES[state]}`,
      );
      assert.deepEqual(
        dlTasks.body.Tasks.map((task: any) => task.Stat),
        tasks.map(() => DEADLINE_TASK_STAT[state]),
        `${what}: Deadline task Stat`,
      );

      assert.equal(ufdl.is_cancelled, state === 'CANCELED', `${what}: UFDL is_cancelled`);
      assert.equal(ufdl.end_time, null, `${what}: UFDL end_time`);
      const listed = ok(ufdlList, `${what}: UFDL list`).find((j: any) => j.pk === id);
      assert.deepEqual(listed, ufdl, `${what}: UFDL list and detail`);

      assert.equal(scale.status, SCALE_STATUS[state], `${what}: Scale status`);
      assert.ok(
        scaleList.results.some((j: any) => j.id === id),
        `${what}: Scale list by status`,
      );
      assert.equal(legacy.status, SCALE_STATUS[state], `${what}: Scale legacy status`);
    }

    /** The steps through `by`, each followed by every face's reads and Deadline's history. */
    async function walk(id: number, from: string, by: Face, first: State): Promise<void> {
      await readsAgree(id, first, `${from} job submitted`);
      const done: string[] = [];
      let state = first;
      for (const [n, step] of STEPS.entries()) {
        if (!(await act(by, step.action, id))) continue;
        const what = `${from} job, step ${n + 1}: ${step.action} through ${by}`;
        state = expected(state, by, step);
        const now = state;
        // Scale's bulk commands run after their 202.
        if (by === 'scale') await eventually(() => readsAgree(id, now, what));
        else await readsAgree(id, now, what);
        // Deadline's job history is the audit trail: every face's change is in it (auth is
        // off, so the actor is the server's local principal).
        done.push(`Job ${step.action} by local via ${by}`);
        await eventually(async () => {
          const res = await t.dl('GET', `/api/jobreports?JobID=${hex(id)}&Data=history`);
          assert.deepEqual(
            res.body.map((e: any) => e.Title).slice(1),
            done,
            `${what}: Deadline history`,
          );
        });
      }
      assert.ok(done.length > 0);
      // Reads that show no job state, once the steps are done.
      for (const path of [
        `/v6/jobs/${id}/input_files/`,
        '/jobs/executions/',
        '/v6/queue/status/',
      ]) {
        await get(path, `${from} job after the steps`);
      }
    }

    for (const from of FACES) {
      for (const by of FACES.filter((f) => f !== from)) {
        it(`a ${from} job through ${by}`, async () => walk(await submit(from), from, by, 'QUEUED'));
      }
    }

    // A job whose task runs (taken and started through the node protocol, no worker).
    for (const by of FACES) {
      it(`a running job through ${by}`, async () => {
        const res = await t.request('POST', '/api/v1/jobs', {
          type: 'command-line',
          parameters: { executable: 'echo' },
          frames: '1',
          // Ahead of the queued jobs of the other tests.
          priority: 1_000_000_000,
        });
        const id = ok(res, 'native submit', 201).id;
        const order = ok(
          await t.request('POST', `/api/v1/nodes/${nodeId}/acquire?wait=0`),
          'acquire',
        );
        assert.equal(order.job.id, id);
        ok(
          await t.request('POST', `/api/v1/executions/${order.execution.id}/start`, { nodeId }),
          'start',
        );
        await walk(id, 'running', by, 'RUNNING');
        // Out of the next running job's way.
        if ((await t.request('GET', `/api/v1/jobs/${id}`)).body.state !== 'CANCELED') {
          ok(await t.request('POST', `/api/v1/jobs/${id}/cancel`), 'cleanup cancel');
        }
      });
    }
  });
}
