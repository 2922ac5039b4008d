import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import type { ManualClock } from '../../src/engine/clock.js';
import type { Engine } from '../../src/engine/engine.js';
import type { DroverEvent } from '../../src/engine/events/events.js';
import type { Failure } from '../../src/engine/executions/execution-failures.js';
import { appendLog, readLog } from '../../src/engine/executions/execution-logs.js';
import {
  completeExecution,
  failReportedExecution,
  startExecution,
} from '../../src/engine/executions/execution-reports.js';
import {
  applyJobAction,
  deleteJob,
  purgeJob,
  undeleteJob,
} from '../../src/engine/jobs/job-actions.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { waitingReasons } from '../../src/engine/jobs/waiting-reasons.js';
import {
  nodeHeartbeat,
  registerNode,
  setNodeEnabled,
  type NodeRegistration,
} from '../../src/engine/nodes/node-registry.js';
import type { EngineSettings } from '../../src/engine/settings.js';
import { findExecution, listExecutions } from '../../src/store/executions.js';
import { findJob } from '../../src/store/jobs.js';
import { findNode } from '../../src/store/nodes.js';
import type { ExecutionRow, JobRow, TaskRow } from '../../src/store/schema.js';
import { findTask, listTasks } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';

/** One engine on a fresh database, with small helpers bound to it. */
class Farm {
  constructor(
    readonly engine: Engine,
    readonly clock: ManualClock,
  ) {}

  get ctx() {
    return this.engine.ctx;
  }

  submit(spec: Partial<SubmitJobSpec> = {}): Promise<number> {
    return submitJob(this.ctx, {
      type: 'command-line',
      user: 'alice',
      parameters: { executable: 'echo' },
      ...spec,
    });
  }

  async node(name: string, r: Partial<NodeRegistration> = {}): Promise<number> {
    return (await registerNode(this.ctx, { name, ...r })).id;
  }

  /** One acquire attempt; the execution or undefined. */
  async take(nodeId: number): Promise<ExecutionRow | undefined> {
    return (await this.engine.dispatcher.tryAcquire(nodeId))?.execution;
  }

  /** An acquire that must succeed. */
  async mustTake(nodeId: number): Promise<ExecutionRow> {
    const e = await this.take(nodeId);
    assert.ok(e, `node ${nodeId} should have got a task`);
    return e;
  }

  async nothingFor(nodeId: number, why = ''): Promise<void> {
    const e = await this.take(nodeId);
    assert.equal(
      e,
      undefined,
      `node ${nodeId} should get nothing ${why}; got task ${e?.task_id} of job ${e?.job_id}`,
    );
  }

  start(e: ExecutionRow): Promise<void> {
    return startExecution(this.ctx, this.engine.settings, e.id, e.node_id);
  }

  complete(e: ExecutionRow): Promise<void> {
    return completeExecution(this.ctx, this.engine.settings, e.id, e.node_id, 0);
  }

  fail(e: ExecutionRow, failure: Failure = { message: 'exit 1', exitCode: 1 }): Promise<void> {
    return failReportedExecution(this.ctx, e.id, e.node_id, failure);
  }

  async job(id: number): Promise<JobRow> {
    const job = await findJob(this.ctx.db, id);
    assert.ok(job, `job ${id} exists`);
    return job;
  }

  async tasks(jobId: number): Promise<TaskRow[]> {
    return (await listTasks(this.ctx.db, jobId, { limit: 10_000, offset: 0 })).rows;
  }

  async task(id: number): Promise<TaskRow> {
    const task = await findTask(this.ctx.db, id);
    assert.ok(task, `task ${id} exists`);
    return task;
  }

  async execution(id: number): Promise<ExecutionRow> {
    const e = await findExecution(this.ctx.db, id);
    assert.ok(e, `execution ${id} exists`);
    return e;
  }

  async jobState(id: number): Promise<string> {
    return (await this.job(id)).state;
  }

  async taskStates(jobId: number): Promise<string[]> {
    return (await this.tasks(jobId)).map((t) => t.state);
  }
}

async function withFarm(
  database: TestDatabase,
  fn: (farm: Farm) => Promise<void>,
  settings: Partial<EngineSettings> = {},
): Promise<void> {
  const t = await startTestEngine(database, { settings });
  try {
    await fn(new Farm(t.engine, t.clock));
  } finally {
    await t.close();
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DroverError, `a DroverError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

for (const database of TEST_DATABASES) {
  const db = database.name;

  describe(`rule: job dependencies (${db})`, () => {
    it('a job waits PENDING until every dependency is COMPLETED and is released by the last', () =>
      withFarm(database, async (f) => {
        const a = await f.submit({ name: 'a' });
        const b = await f.submit({ name: 'b' });
        // Higher priority: were it eligible, it would be dispatched before a and b.
        const c = await f.submit({ name: 'c', dependencies: [a, b], priority: 90 });
        const cJob = await f.job(c);
        assert.equal(cJob.state, 'PENDING');
        assert.equal(cJob.pend_reason, 'DEPENDENCIES');
        assert.equal(cJob.tasks_pending, 1);
        assert.deepEqual(await f.taskStates(c), ['PENDING']);
        assert.deepEqual(
          (await waitingReasons(f.ctx, c)).map((r) => r.code),
          ['DEPENDENCIES_PENDING'],
        );

        const n = await f.node('n1', { slots: 4 });
        const ea = await f.mustTake(n);
        assert.equal(ea.job_id, a);
        await f.complete(ea);
        assert.equal(await f.jobState(a), 'COMPLETED');
        assert.equal(await f.jobState(c), 'PENDING', 'one dependency is still not complete');

        const eb = await f.mustTake(n);
        assert.equal(eb.job_id, b, 'c must not be dispatched while b is unfinished');
        await f.nothingFor(n, 'while b runs');
        await f.complete(eb);

        const released = await f.job(c);
        assert.equal(released.state, 'QUEUED');
        assert.equal(released.pend_reason, null);
        assert.deepEqual(await f.taskStates(c), ['QUEUED']);
        const ec = await f.mustTake(n);
        assert.equal(ec.job_id, c);
      }));

    it('a dependency already COMPLETED at submission does not hold the job', () =>
      withFarm(database, async (f) => {
        const a = await f.submit();
        const n = await f.node('n1');
        await f.complete(await f.mustTake(n));
        const c = await f.submit({ dependencies: [a] });
        assert.equal(await f.jobState(c), 'QUEUED');
      }));

    it('a dependency that fails keeps a job whose policy is WAIT PENDING', () =>
      withFarm(database, async (f) => {
        const a = await f.submit({ maxTries: 1 });
        const c = await f.submit({ dependencies: [a], onDependencyFailure: 'WAIT' });
        const n = await f.node('n1', { slots: 2 });
        await f.fail(await f.mustTake(n));
        assert.equal(await f.jobState(a), 'FAILED');
        assert.equal(await f.jobState(c), 'PENDING');
        await f.nothingFor(n, 'from a job whose dependency failed');
        await f.engine.reaper.tick();
        assert.equal(await f.jobState(c), 'PENDING');
        await f.nothingFor(n, 'after a reaper tick');
      }));

    it('a dependency that is canceled keeps a job whose policy is WAIT PENDING', () =>
      withFarm(database, async (f) => {
        const a = await f.submit();
        const c = await f.submit({ dependencies: [a], onDependencyFailure: 'WAIT' });
        await applyJobAction(f.ctx, a, 'cancel');
        assert.equal(await f.jobState(c), 'PENDING');
        await f.nothingFor(await f.node('n1'));
      }));

    it('submitting with an unknown dependency is refused', () =>
      withFarm(database, async (f) => {
        await rejectsWith(f.submit({ dependencies: [9999] }), 'VALIDATION');
      }));
  });

  describe(`rule: machine limit (${db})`, () => {
    it('limit 1: a second node gets nothing while the first holds a task, then gets it', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-3', machineLimit: 1 });
        const n1 = await f.node('n1', { slots: 2 });
        const n2 = await f.node('n2', { slots: 2 });
        const first = await f.mustTake(n1);
        assert.equal(first.job_id, job);
        await f.nothingFor(n2, 'while n1 holds a task of a machine-limit-1 job');
        assert.deepEqual(
          (await waitingReasons(f.ctx, job)).map((r) => r.code),
          ['MACHINE_LIMIT_REACHED'],
        );

        // A node already on the job may take more within its slots.
        const second = await f.mustTake(n1);
        assert.equal(second.job_id, job);
        await f.nothingFor(n1, 'beyond its 2 slots');
        await f.nothingFor(n2, 'still');

        await f.complete(first);
        await f.nothingFor(n2, 'while n1 still holds one task');
        await f.complete(second);
        const third = await f.mustTake(n2);
        assert.equal(third.job_id, job);
        assert.equal(third.node_id, n2);
      }));

    it('limit 2 admits two nodes but not a third', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-4', machineLimit: 2 });
        const n1 = await f.node('n1');
        const n2 = await f.node('n2');
        const n3 = await f.node('n3');
        assert.equal((await f.mustTake(n1)).job_id, job);
        assert.equal((await f.mustTake(n2)).job_id, job);
        await f.nothingFor(n3, 'beyond the machine limit of 2');
      }));

    it('many limit-saturated jobs ahead do not starve a node of an eligible job', () =>
      withFarm(database, async (f) => {
        // 30 high-priority jobs, each held by its own node at machine limit 1.
        const limited: number[] = [];
        for (let i = 0; i < 30; i++)
          limited.push(await f.submit({ frames: '1-2', machineLimit: 1, priority: 90 }));
        const eligible = await f.submit({ priority: 10 });
        for (let i = 0; i < 30; i++) {
          const holder = await f.node(`h${i}`);
          assert.equal((await f.mustTake(holder)).job_id, limited[i]);
        }
        const free = await f.node('free');
        assert.equal((await f.mustTake(free)).job_id, eligible);
      }));

    it('a node skipped for the limit still gets the next eligible job', () =>
      withFarm(database, async (f) => {
        const limited = await f.submit({ frames: '1-3', machineLimit: 1, priority: 90 });
        const other = await f.submit({ priority: 10 });
        const n1 = await f.node('n1');
        const n2 = await f.node('n2');
        assert.equal((await f.mustTake(n1)).job_id, limited);
        assert.equal((await f.mustTake(n2)).job_id, other);
      }));
  });

  describe(`rule: concurrent acquires (${db})`, () => {
    it('two nodes never hold the same task', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-6' });
        const nodes: number[] = [];
        for (let i = 0; i < 10; i++) nodes.push(await f.node(`n${i}`));
        const got = (await Promise.all(nodes.map((n) => f.take(n)))).filter((e) => e !== undefined);
        assert.equal(got.length, 6);
        assert.equal(new Set(got.map((e) => e.task_id)).size, 6);
        assert.equal(new Set(got.map((e) => e.node_id)).size, 6);
        const row = await f.job(job);
        assert.equal(row.tasks_running, 6);
        assert.equal(row.tasks_queued, 0);
        assert.equal(row.num_exes, 6);
      }));

    it('the machine limit holds under concurrent acquires', () =>
      withFarm(database, async (f) => {
        await f.submit({ frames: '1-10', machineLimit: 2 });
        const nodes: number[] = [];
        for (let i = 0; i < 8; i++) nodes.push(await f.node(`n${i}`));
        const got = (await Promise.all(nodes.map((n) => f.take(n)))).filter((e) => e !== undefined);
        assert.equal(new Set(got.map((e) => e.node_id)).size, 2);
      }));
  });

  describe(`rule: allow and deny lists (${db})`, () => {
    it('allow list: only listed nodes get the job', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ allowList: ['n2'] });
        const n1 = await f.node('n1');
        const n2 = await f.node('n2');
        await f.nothingFor(n1, 'when not on the allow list');
        assert.equal((await f.mustTake(n2)).job_id, job);
      }));

    it('deny list: listed nodes get nothing, others get the job', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ denyList: ['n1'] });
        const n1 = await f.node('n1');
        const n2 = await f.node('n2');
        await f.nothingFor(n1, 'when on the deny list');
        assert.equal((await f.mustTake(n2)).job_id, job);
      }));

    it('allow and deny together are refused', () =>
      withFarm(database, async (f) => {
        await rejectsWith(f.submit({ allowList: ['a'], denyList: ['b'] }), 'VALIDATION');
      }));
  });

  describe(`rule: pools and groups (${db})`, () => {
    it('a job in a pool goes only to nodes in that pool', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ pool: 'gpu' });
        const none = await f.node('none');
        const cpu = await f.node('cpu', { pools: ['cpu'] });
        const gpu = await f.node('gpu', { pools: ['cpu', 'gpu'] });
        await f.nothingFor(none, 'without pools');
        await f.nothingFor(cpu, 'in another pool');
        assert.equal((await f.mustTake(gpu)).job_id, job);
      }));

    it('a job in a group goes only to nodes in that group', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ group: 'linux' });
        const none = await f.node('none');
        const win = await f.node('win', { groups: ['windows'] });
        const lin = await f.node('lin', { groups: ['linux'] });
        await f.nothingFor(none, 'without groups');
        await f.nothingFor(win, 'in another group');
        assert.equal((await f.mustTake(lin)).job_id, job);
      }));

    it('pool and group must both match', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ pool: 'p', group: 'g' });
        const poolOnly = await f.node('a', { pools: ['p'], groups: ['x'] });
        const groupOnly = await f.node('b', { pools: ['x'], groups: ['g'] });
        const both = await f.node('c', { pools: ['p'], groups: ['g'] });
        await f.nothingFor(poolOnly, 'with the pool but not the group');
        await f.nothingFor(groupOnly, 'with the group but not the pool');
        assert.equal((await f.mustTake(both)).job_id, job);
      }));

    it('pool "" and group "" mean any node', () =>
      withFarm(database, async (f) => {
        const j1 = await f.submit({ pool: '', group: '' });
        const j2 = await f.submit();
        const plain = await f.node('plain');
        const pooled = await f.node('pooled', { pools: ['x'], groups: ['y'] });
        assert.equal((await f.mustTake(pooled)).job_id, j1);
        assert.equal((await f.mustTake(plain)).job_id, j2);
      }));
  });

  describe(`rule: resources (${db})`, () => {
    for (const key of ['cpus', 'mem', 'disk', 'gpus'] as const) {
      it(`a job asking for more ${key} than a node has is not dispatched to it`, () =>
        withFarm(database, async (f) => {
          const job = await f.submit({ resources: { [key]: 8 } });
          const small = await f.node('small', { cpus: 4, mem: 4, disk: 4, gpus: 4, [key]: 7 });
          const big = await f.node('big', { cpus: 4, mem: 4, disk: 4, gpus: 4, [key]: 8 });
          await f.nothingFor(small, `with too few ${key}`);
          const e = await f.mustTake(big);
          assert.equal(e.job_id, job);
          const row = await f.job(job);
          assert.equal(row[`req_${key}`], 8);
        }));
    }

    it('no node big enough: the waiting reason says so', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ resources: { mem: 1_000_000 } });
        const n = await f.node('n1', { mem: 1024 });
        await f.nothingFor(n);
        assert.deepEqual(
          (await waitingReasons(f.ctx, job)).map((r) => r.code),
          ['RESOURCES_TOO_LARGE'],
        );
      }));
  });

  describe(`rule: priority order (${db})`, () => {
    it('higher priority first', () =>
      withFarm(database, async (f) => {
        const low = await f.submit({ priority: 10 });
        f.clock.advance(1000);
        const high = await f.submit({ priority: 90 });
        f.clock.advance(1000);
        const mid = await f.submit({ priority: 50 });
        const n = await f.node('n1', { slots: 3 });
        assert.deepEqual(
          [
            (await f.mustTake(n)).job_id,
            (await f.mustTake(n)).job_id,
            (await f.mustTake(n)).job_id,
          ],
          [high, mid, low],
        );
      }));

    it('equal priority: earlier submission first (by time, not by id)', () =>
      withFarm(database, async (f) => {
        const first = await f.submit({ priority: 50 });
        f.clock.advance(1000);
        const second = await f.submit({ priority: 50 });
        // Make the job with the higher id the earlier submission.
        await f.ctx.db
          .updateTable('jobs')
          .set({ created_at: f.clock.now - 5000 })
          .where('id', '=', second)
          .execute();
        const n = await f.node('n1', { slots: 2 });
        assert.equal((await f.mustTake(n)).job_id, second);
        assert.equal((await f.mustTake(n)).job_id, first);
      }));

    it('within a job, lower task index first', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-5' });
        const n = await f.node('n1', { slots: 5 });
        const byId = new Map((await f.tasks(job)).map((t) => [t.id, t.task_index]));
        const order: number[] = [];
        for (let i = 0; i < 5; i++) order.push(byId.get((await f.mustTake(n)).task_id)!);
        assert.deepEqual(order, [0, 1, 2, 3, 4]);
      }));

    it('a retried task of a high-priority job comes before a low-priority job', () =>
      withFarm(database, async (f) => {
        const high = await f.submit({ priority: 90 });
        const low = await f.submit({ priority: 10 });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        assert.equal(e.job_id, high);
        await f.fail(e);
        assert.equal((await f.mustTake(n)).job_id, high);
        void low;
      }));
  });

  describe(`rule: nodes (${db})`, () => {
    it('a disabled node gets nothing; enabled again it gets the task', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        await setNodeEnabled(f.ctx, n, false);
        await f.nothingFor(n, 'while disabled');
        assert.deepEqual(
          (await waitingReasons(f.ctx, job)).map((r) => r.code),
          ['NO_NODE_ONLINE'],
        );
        await setNodeEnabled(f.ctx, n, true);
        assert.equal((await f.mustTake(n)).job_id, job);
      }));

    it('a node holds at most its slots', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-5' });
        const n = await f.node('n1', { slots: 2 });
        const a = await f.mustTake(n);
        await f.mustTake(n);
        await f.nothingFor(n, 'with both slots full');
        await f.complete(a);
        assert.equal((await f.mustTake(n)).job_id, job);
        await f.nothingFor(n, 'with both slots full again');
      }));

    it('one slot by default', () =>
      withFarm(database, async (f) => {
        await f.submit({ frames: '1-2' });
        const n = await f.node('n1');
        await f.mustTake(n);
        await f.nothingFor(n, 'with its one slot full');
      }));
  });

  describe(`rule: retries (${db})`, () => {
    it('a failing task is retried up to maxTries, then it and the job are FAILED', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 3 });
        const n = await f.node('n1');
        for (let attempt = 1; attempt <= 3; attempt++) {
          const e = await f.mustTake(n);
          assert.equal(e.exe_num, attempt);
          await f.start(e);
          await f.fail(e);
          const [task] = await f.tasks(job);
          assert.equal(task!.tries, attempt);
          if (attempt < 3) {
            assert.equal(task!.state, 'QUEUED', `after try ${attempt}`);
            assert.equal(await f.jobState(job), 'RUNNING');
          } else {
            assert.equal(task!.state, 'FAILED');
          }
        }
        const row = await f.job(job);
        assert.equal(row.state, 'FAILED');
        assert.equal(row.tasks_failed, 1);
        assert.equal(row.error_name, 'algorithm-unknown');
        await f.nothingFor(n, 'from a failed job');
        const exes = await listExecutions(f.ctx.db, { jobId: job }, { limit: 10, offset: 0 });
        assert.equal(exes.total, 3);
        assert.ok(exes.rows.every((e) => e.state === 'FAILED'));
      }));

    it('retryAnyError=false: a non-retryable error fails at once', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 5, retryAnyError: false });
        const n = await f.node('n1');
        await f.fail(await f.mustTake(n), { errorName: 'algorithm-unknown' });
        const [task] = await f.tasks(job);
        assert.equal(task!.state, 'FAILED');
        assert.equal(task!.tries, 1);
        assert.equal(await f.jobState(job), 'FAILED');
        await f.nothingFor(n);
      }));

    it('retryAnyError=false: a retryable (SYSTEM) error is still retried', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 5, retryAnyError: false });
        const n = await f.node('n1');
        await f.fail(await f.mustTake(n), { errorName: 'filesystem-io' });
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
        assert.equal((await f.mustTake(n)).job_id, job);
      }));

    it('retryAnyError defaults to true: a non-retryable error is retried while tries remain', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 2 });
        const n = await f.node('n1');
        await f.fail(await f.mustTake(n), { errorName: 'algorithm-unknown' });
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
      }));

    it('an unknown error name is refused and changes nothing', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await rejectsWith(f.fail(e, { errorName: 'no-such-error' }), 'VALIDATION');
        assert.equal((await f.execution(e.id)).state, 'ACQUIRED');
        assert.deepEqual(await f.taskStates(job), ['RUNNING']);
      }));
  });

  describe(`rule: suspend and resume (${db})`, () => {
    it('suspend stops the running execution and holds every task', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-2' });
        const n = await f.node('n1', { slots: 2 });
        const e = await f.mustTake(n);
        await f.start(e);
        await applyJobAction(f.ctx, job, 'suspend');
        assert.equal(await f.jobState(job), 'SUSPENDED');
        assert.deepEqual(await f.taskStates(job), ['SUSPENDED', 'SUSPENDED']);
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        await rejectsWith(f.complete(e), 'STALE_LEASE');
        await f.nothingFor(n, 'from a suspended job');
        const row = await f.job(job);
        assert.equal(row.tasks_suspended, 2);
        assert.equal(row.tasks_running, 0);

        await applyJobAction(f.ctx, job, 'resume');
        assert.equal(await f.jobState(job), 'QUEUED');
        assert.deepEqual(await f.taskStates(job), ['QUEUED', 'QUEUED']);
        assert.equal((await f.mustTake(n)).job_id, job);
      }));

    it('suspend-queued lets the running execution continue and complete', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-2' });
        const n = await f.node('n1', { slots: 2 });
        const e = await f.mustTake(n);
        await f.start(e);
        await applyJobAction(f.ctx, job, 'suspend-queued');
        assert.equal(await f.jobState(job), 'SUSPENDED');
        assert.deepEqual(await f.taskStates(job), ['RUNNING', 'SUSPENDED']);
        assert.equal((await f.execution(e.id)).state, 'RUNNING');
        await f.nothingFor(n, 'from a suspended job (its queued task is held)');

        await f.complete(e);
        assert.equal((await f.execution(e.id)).state, 'COMPLETED');
        assert.deepEqual(await f.taskStates(job), ['COMPLETED', 'SUSPENDED']);
        assert.equal(await f.jobState(job), 'SUSPENDED');

        await applyJobAction(f.ctx, job, 'resume');
        await f.complete(await f.mustTake(n));
        assert.equal(await f.jobState(job), 'COMPLETED');
      }));

    it('suspend-queued: when the last running task completes the job completes', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await applyJobAction(f.ctx, job, 'suspend-queued');
        await f.complete(e);
        assert.equal(await f.jobState(job), 'COMPLETED');
      }));

    it('resume with unmet dependencies goes back to PENDING and is released later', () =>
      withFarm(database, async (f) => {
        const a = await f.submit();
        const c = await f.submit({ dependencies: [a] });
        await applyJobAction(f.ctx, c, 'suspend');
        assert.equal(await f.jobState(c), 'SUSPENDED');
        await applyJobAction(f.ctx, c, 'resume');
        const row = await f.job(c);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'DEPENDENCIES');
        assert.deepEqual(await f.taskStates(c), ['PENDING']);
        const n = await f.node('n1', { slots: 2 });
        const ea = await f.mustTake(n);
        assert.equal(ea.job_id, a);
        await f.nothingFor(n, 'from the job waiting on a');
        await f.complete(ea);
        assert.equal(await f.jobState(c), 'QUEUED');
        assert.equal((await f.mustTake(n)).job_id, c);
      }));

    it('an illegal action changes nothing', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        await rejectsWith(applyJobAction(f.ctx, job, 'resume'), 'ILLEGAL_TRANSITION');
        assert.equal(await f.jobState(job), 'QUEUED');
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
      }));
  });

  describe(`rule: requeue (${db})`, () => {
    it('requeue of a FAILED job resets the tries of its tasks', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 2 });
        const n = await f.node('n1');
        await f.fail(await f.mustTake(n));
        await f.fail(await f.mustTake(n));
        assert.equal(await f.jobState(job), 'FAILED');
        assert.equal((await f.tasks(job))[0]!.tries, 2);

        await applyJobAction(f.ctx, job, 'requeue');
        const row = await f.job(job);
        assert.equal(row.state, 'QUEUED');
        assert.equal(row.error_name, null);
        assert.equal(row.tasks_queued, 1);
        assert.equal(row.tasks_failed, 0);
        const [task] = await f.tasks(job);
        assert.equal(task!.state, 'QUEUED');
        assert.equal(task!.tries, 0);
        // With its tries forgotten, one failure retries again instead of failing the job.
        await f.fail(await f.mustTake(n));
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
        assert.equal(await f.jobState(job), 'RUNNING');
      }));

    it('requeue of a running job resets the tries of every task, queued ones too', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 2, frames: '1-2' });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.fail(e); // task 0: QUEUED, tries 1
        assert.equal((await f.task(e.task_id)).tries, 1);
        assert.equal(await f.jobState(job), 'RUNNING');
        await applyJobAction(f.ctx, job, 'requeue');
        const tasks = await f.tasks(job);
        assert.deepEqual(
          tasks.map((t) => [t.state, t.tries]),
          [
            ['QUEUED', 0],
            ['QUEUED', 0],
          ],
        );
      }));

    it('requeue of a COMPLETED job runs it again', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        await f.complete(await f.mustTake(n));
        assert.equal(await f.jobState(job), 'COMPLETED');
        await applyJobAction(f.ctx, job, 'requeue');
        const row = await f.job(job);
        assert.equal(row.state, 'QUEUED');
        assert.equal(row.ended_at, null);
        assert.equal(row.tasks_completed, 0);
        assert.equal((await f.mustTake(n)).job_id, job);
      }));

    it('requeue stops a running execution and queues its task again', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);
        await applyJobAction(f.ctx, job, 'requeue');
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
        await rejectsWith(f.complete(e), 'STALE_LEASE');
        const again = await f.mustTake(n);
        assert.equal(again.job_id, job);
        assert.equal(again.exe_num, 2);
      }));
  });

  describe(`rule: cancel, complete and fail by hand (${db})`, () => {
    it('cancel stops running work and dispatches nothing more', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-3' });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);
        await applyJobAction(f.ctx, job, 'cancel');
        const row = await f.job(job);
        assert.equal(row.state, 'CANCELED');
        assert.equal(row.tasks_canceled, 3);
        assert.notEqual(row.ended_at, null);
        assert.deepEqual(await f.taskStates(job), ['CANCELED', 'CANCELED', 'CANCELED']);
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        await rejectsWith(f.complete(e), 'STALE_LEASE');
        await f.nothingFor(n, 'from a canceled job');
        await rejectsWith(applyJobAction(f.ctx, job, 'cancel'), 'ILLEGAL_TRANSITION');
      }));

    it('complete by hand completes every task and releases dependents', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-3' });
        const dependent = await f.submit({ dependencies: [job] });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await applyJobAction(f.ctx, job, 'complete');
        const row = await f.job(job);
        assert.equal(row.state, 'COMPLETED');
        assert.equal(row.tasks_completed, 3);
        assert.deepEqual(await f.taskStates(job), ['COMPLETED', 'COMPLETED', 'COMPLETED']);
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        assert.equal(await f.jobState(dependent), 'QUEUED');
        assert.equal((await f.mustTake(n)).job_id, dependent);
      }));

    it('fail by hand fails every unfinished task', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-3' });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.complete(e);
        const e2 = await f.mustTake(n);
        await applyJobAction(f.ctx, job, 'fail');
        const row = await f.job(job);
        assert.equal(row.state, 'FAILED');
        assert.equal(row.error_name, 'unknown');
        assert.equal(row.tasks_completed, 1);
        assert.equal(row.tasks_failed, 2);
        assert.deepEqual(await f.taskStates(job), ['COMPLETED', 'FAILED', 'FAILED']);
        assert.equal((await f.execution(e2.id)).state, 'CANCELED');
        await f.nothingFor(n, 'from a failed job');
      }));
  });

  describe(`rule: delete, undelete, purge (${db})`, () => {
    it('delete stops dispatch and running work; undelete restores dispatch', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-2' });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);
        await deleteJob(f.ctx, job);
        const row = await f.job(job);
        assert.notEqual(row.deleted_at, null);
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        assert.deepEqual(await f.taskStates(job), ['QUEUED', 'QUEUED']);
        assert.equal(row.tasks_queued, 2);
        assert.equal(row.tasks_running, 0);
        await f.nothingFor(n, 'from a deleted job');
        assert.ok((await waitingReasons(f.ctx, job)).some((r) => r.code === 'DELETED'));

        await undeleteJob(f.ctx, job);
        assert.equal((await f.job(job)).deleted_at, null);
        assert.equal((await f.mustTake(n)).job_id, job);
      }));

    it('purge is refused for a job not deleted', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        await rejectsWith(purgeJob(f.ctx, job), 'CONFLICT');
        assert.ok(await findJob(f.ctx.db, job));
      }));

    it('purge removes the job, its tasks, executions and logs', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ frames: '1-3', allowList: ['n1'] });
        const keep = await f.submit({ frames: '1-2', allowList: ['n1'], priority: 0 });
        const dependent = await f.submit({ dependencies: [job] });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        assert.equal(e.job_id, job);
        await appendLog(f.ctx, e.id, n, [{ stream: 'stdout', text: 'hello' }]);
        await f.complete(e);
        await deleteJob(f.ctx, job);
        await purgeJob(f.ctx, job);

        assert.equal(await findJob(f.ctx.db, job), undefined);
        assert.equal((await listTasks(f.ctx.db, job, { limit: 10, offset: 0 })).total, 0);
        assert.equal(
          (await listExecutions(f.ctx.db, { jobId: job }, { limit: 10, offset: 0 })).total,
          0,
        );
        await rejectsWith(readLog(f.ctx, e.id, 0, 10), 'NOT_FOUND');
        const leftovers = await f.ctx.db
          .selectFrom('log_batches')
          .select('id')
          .where('execution_id', '=', e.id)
          .execute();
        assert.equal(leftovers.length, 0);
        const lists = await f.ctx.db
          .selectFrom('job_node_list')
          .select('node_name')
          .where('job_id', '=', job)
          .execute();
        assert.equal(lists.length, 0);
        const deps = await f.ctx.db
          .selectFrom('job_dependencies')
          .select('job_id')
          .where((eb) => eb.or([eb('job_id', '=', job), eb('depends_on_id', '=', job)]))
          .execute();
        assert.equal(deps.length, 0);
        // Other jobs are untouched.
        assert.equal((await f.job(keep)).task_count, 2);
        assert.equal((await listTasks(f.ctx.db, keep, { limit: 10, offset: 0 })).total, 2);
        assert.ok(await findJob(f.ctx.db, dependent));
      }));
  });

  describe(`rule: schedule (${db})`, () => {
    it('scheduledAt holds the job PENDING until the clock passes it and the reaper releases it', () =>
      withFarm(database, async (f) => {
        const at = f.clock.now + 60_000;
        const job = await f.submit({ scheduledAt: at, frames: '1-2' });
        const row = await f.job(job);
        assert.equal(row.state, 'PENDING');
        assert.equal(row.pend_reason, 'SCHEDULE');
        assert.equal(row.tasks_pending, 2);
        assert.deepEqual(
          (await waitingReasons(f.ctx, job)).map((r) => r.code),
          ['SCHEDULED'],
        );
        const n = await f.node('n1');
        await f.nothingFor(n, 'before the schedule');

        f.clock.advance(59_000);
        await nodeHeartbeat(f.ctx, f.engine.settings, n, []);
        assert.equal((await f.engine.reaper.tick()).released, 0);
        assert.equal(await f.jobState(job), 'PENDING');
        await f.nothingFor(n, 'a second before the schedule');

        f.clock.advance(1_000);
        assert.equal((await f.engine.reaper.tick()).released, 1);
        assert.equal(await f.jobState(job), 'QUEUED');
        assert.deepEqual(await f.taskStates(job), ['QUEUED', 'QUEUED']);
        assert.equal((await f.mustTake(n)).job_id, job);
        assert.equal((await f.engine.reaper.tick()).released, 0);
      }));

    it('a job with both dependencies and a schedule waits for both', () =>
      withFarm(database, async (f) => {
        const a = await f.submit();
        const at = f.clock.now + 3_600_000;
        const c = await f.submit({ dependencies: [a], scheduledAt: at });
        assert.equal(await f.jobState(c), 'PENDING');
        const n = await f.node('n1');
        await f.complete(await f.mustTake(n));
        assert.equal(await f.jobState(a), 'COMPLETED');
        const row = await f.job(c);
        assert.equal(row.state, 'PENDING', 'dependencies are met but the schedule is not reached');
        assert.equal(row.pend_reason, 'SCHEDULE');
        await f.nothingFor(n, 'before the schedule');
        f.clock.advance(3_600_000);
        assert.equal((await f.engine.reaper.tick()).released, 1);
        assert.equal(await f.jobState(c), 'QUEUED');
        assert.equal((await f.mustTake(n)).job_id, c);
      }));

    it('a scheduledAt in the past queues the job at once', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ scheduledAt: f.clock.now - 1 });
        assert.equal(await f.jobState(job), 'QUEUED');
      }));
  });

  describe(`rule: timeouts and leases (${db})`, () => {
    it('task timeout: the reaper fails the execution with error "timeout", timed_out=1', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ taskTimeout: 10, maxTries: 3 });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);

        f.clock.advance(9_000);
        assert.equal((await f.engine.reaper.tick()).timedOut, 0);
        assert.equal((await f.execution(e.id)).state, 'RUNNING');

        f.clock.advance(1_001);
        const reaped = await f.engine.reaper.tick();
        assert.equal(reaped.timedOut, 1);
        assert.equal(reaped.lost, 0);
        const ex = await f.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.timed_out, 1);
        assert.equal(ex.error_name, 'timeout');
        const [task] = await f.tasks(job);
        assert.equal(task!.state, 'QUEUED');
        assert.equal(task!.tries, 1);
        await rejectsWith(f.complete(e), 'STALE_LEASE');
      }));

    it('job timeout: the reaper fails the job and stops its work', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ jobTimeout: 10, frames: '1-2' });
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);

        f.clock.advance(9_000);
        assert.equal((await f.engine.reaper.tick()).jobsTimedOut, 0);
        assert.equal(await f.jobState(job), 'RUNNING');

        f.clock.advance(1_001);
        assert.equal((await f.engine.reaper.tick()).jobsTimedOut, 1);
        const row = await f.job(job);
        assert.equal(row.state, 'FAILED');
        assert.equal(row.error_name, 'timeout');
        assert.equal((await f.execution(e.id)).state, 'CANCELED');
        await f.nothingFor(n, 'from a timed-out job');
        assert.equal((await f.engine.reaper.tick()).jobsTimedOut, 0);
      }));

    it('lease expiry: the reaper fails the execution as node-lost and requeues the task', () =>
      withFarm(database, async (f) => {
        const job = await f.submit({ maxTries: 3 });
        const n1 = await f.node('n1');
        const n2 = await f.node('n2');
        const e = await f.mustTake(n1);
        await f.start(e);
        const leaseMs = f.engine.settings.leaseMs;

        f.clock.advance(leaseMs);
        assert.equal(
          (await f.engine.reaper.tick()).lost,
          0,
          'a lease ending exactly now is not expired yet',
        );
        f.clock.advance(1);
        assert.equal((await f.engine.reaper.tick()).lost, 1);
        const ex = await f.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.error_name, 'node-lost');
        const [task] = await f.tasks(job);
        assert.equal(task!.state, 'QUEUED');
        assert.equal(task!.tries, 1);
        assert.equal(task!.node_id, null);

        // The lost node's report is refused; another node takes the task.
        await rejectsWith(f.complete(e), 'STALE_LEASE');
        const again = await f.mustTake(n2);
        assert.equal(again.task_id, e.task_id);
      }));

    it('a heartbeat extends the lease', () =>
      withFarm(database, async (f) => {
        await f.submit();
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        await f.start(e);
        const leaseMs = f.engine.settings.leaseMs;
        f.clock.advance(leaseMs - 1000);
        assert.deepEqual((await nodeHeartbeat(f.ctx, f.engine.settings, n, [e.id])).stop, []);
        f.clock.advance(leaseMs - 1000);
        assert.equal((await f.engine.reaper.tick()).lost, 0);
        assert.equal((await f.execution(e.id)).state, 'RUNNING');
        await f.complete(e);
      }));

    it('a report after the lease expired is refused and requeues the task at once', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const n = await f.node('n1');
        const e = await f.mustTake(n);
        f.clock.advance(f.engine.settings.leaseMs + 1);
        await rejectsWith(f.complete(e), 'STALE_LEASE');
        const ex = await f.execution(e.id);
        assert.equal(ex.state, 'FAILED');
        assert.equal(ex.error_name, 'node-lost');
        assert.deepEqual(await f.taskStates(job), ['QUEUED']);
      }));

    it('a node goes OFFLINE after nodeTimeoutMs without a heartbeat', () =>
      withFarm(database, async (f) => {
        const n = await f.node('n1');
        const other = await f.node('n2');
        const timeout = f.engine.settings.nodeTimeoutMs;

        f.clock.advance(timeout - 1000);
        await nodeHeartbeat(f.ctx, f.engine.settings, other, []);
        assert.equal((await f.engine.reaper.tick()).nodesOffline, 0);
        assert.equal((await findNode(f.ctx.db, n))!.state, 'ONLINE');

        f.clock.advance(1001);
        assert.equal((await f.engine.reaper.tick()).nodesOffline, 1);
        assert.equal((await findNode(f.ctx.db, n))!.state, 'OFFLINE');
        assert.equal((await findNode(f.ctx.db, other))!.state, 'ONLINE');

        // Coming back: a heartbeat makes it ONLINE again.
        await nodeHeartbeat(f.ctx, f.engine.settings, n, []);
        assert.equal((await findNode(f.ctx.db, n))!.state, 'ONLINE');
      }));
  });

  describe(`rule: events (${db})`, () => {
    it('exactly one job.state event per job state change: submit → dispatch → complete', () =>
      withFarm(database, async (f) => {
        const seen: (DroverEvent & { at: number })[] = [];
        const unsubscribe = f.ctx.bus.subscribe((event) => seen.push(event));
        try {
          const job = await f.submit({ frames: '1-2' });
          const n = await f.node('n1', { slots: 2 });
          const e1 = await f.mustTake(n);
          const e2 = await f.mustTake(n);
          await f.complete(e1);
          await f.complete(e2);
          assert.equal(await f.jobState(job), 'COMPLETED');

          const jobStates = () =>
            seen
              .filter((e) => e.type === 'job.state' && e.jobId === job)
              .map((e) => e.type === 'job.state' && `${e.from}>${e.to}`);
          await eventually(() =>
            assert.ok(jobStates().includes('RUNNING>COMPLETED'), jobStates().join(', ')),
          );
          await new Promise((r) => setTimeout(r, 100)); // let any stray duplicate arrive
          assert.deepEqual(jobStates(), ['QUEUED>RUNNING', 'RUNNING>COMPLETED']);

          const created = seen.filter((e) => e.type === 'job.created' && e.jobId === job);
          assert.equal(created.length, 1);
          const executionEnds = seen.filter(
            (e) => e.type === 'execution.state' && e.jobId === job && e.to === 'COMPLETED',
          );
          assert.equal(executionEnds.length, 2);
        } finally {
          unsubscribe();
        }
      }));

    it('a job state change that is refused emits nothing', () =>
      withFarm(database, async (f) => {
        const job = await f.submit();
        const seen: DroverEvent[] = [];
        const unsubscribe = f.ctx.bus.subscribe((event) => seen.push(event));
        try {
          await rejectsWith(applyJobAction(f.ctx, job, 'resume'), 'ILLEGAL_TRANSITION');
          await applyJobAction(f.ctx, job, 'suspend'); // a marker that does arrive
          await eventually(() =>
            assert.ok(
              seen.some((e) => e.type === 'job.state'),
              'a job.state event arrives',
            ),
          );
          await new Promise((r) => setTimeout(r, 100));
          assert.deepEqual(
            seen.filter((e) => e.type === 'job.state').map((e) => e.type === 'job.state' && e.to),
            ['SUSPENDED'],
          );
        } finally {
          unsubscribe();
        }
      }));
  });
}
