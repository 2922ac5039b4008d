import { notFound } from '../../domain/errors.js';
import { claimGroup } from '../../store/claim-groups.js';
import {
  dispatchableJobs,
  nodeForClaim,
  nodeSpecificJobsExist,
  queuedTasksOf,
  type DispatchableJob,
} from '../../store/claim-looks.js';
import type { Tx } from '../../store/database.js';
import { nodeHoldsJob, otherNodesOnJob } from '../../store/executions.js';
import { findJobType, findRevisionById } from '../../store/job-types.js';
import { lockJob } from '../../store/jobs.js';
import { updateNode } from '../../store/nodes.js';
import type {
  ExecutionRow,
  JobRow,
  JobTypeRevisionRow,
  JobTypeRow,
  NodeRow,
  TaskRow,
} from '../../store/schema.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { abortExecution, releaseExecution } from '../executions/execution-reports.js';
import type { EngineSettings } from '../settings.js';
import { changeJobState, emitExecutionMoved } from '../state-changes.js';
import { ItemFailure } from './group-commit.js';
import { readOnce } from './read-once.js';
import { dispatchTasks } from './task-dispatch.js';
import { WaitQueue } from './wait-queue.js';
import { writeLane, type LaneKind } from './write-lane.js';

/** How stale a node's recorded heartbeat may get before an acquire refreshes it. */
const HEARTBEAT_WRITE_MS = 5_000;

/** Jobs a node may pass over in one claim (machine limit, tasks locked by others). */
const MAX_SKIPPED_JOBS = 20;

/** Jobs read per look at the queue; most claims are served by the first. */
const JOBS_PER_LOOK = 4;

/** How soon a claim that found only tasks locked by other claims looks again. */
const CONTENDED_RETRY_MS = 5;

/**
 * The most claims one transaction takes: each holds the rows it claimed (on PostgreSQL,
 * its jobs' row locks) until the last of the group is done.
 */
const MAX_CLAIMS_PER_TRANSACTION = 32;

/** A claim waiting for the group's transaction. */
interface ClaimCall {
  nodeId: number;
  options: ClaimOptions;
  look: Look;
}

/** The most tasks one claim may take. */
export const MAX_CLAIM = 100;

/** Everything a node needs to run one task, made from the claim's own rows. */
export interface Acquired {
  execution: ExecutionRow;
  task: TaskRow;
  job: JobRow;
  type: JobTypeIdentity;
  revision: JobTypeRevisionRow;
  /** Milliseconds the task waited in the queue before this dispatch. */
  queuedMs: number;
}

/** What a work order tells of its job type; a type's name and version never change. */
type JobTypeIdentity = Pick<JobTypeRow, 'id' | 'name' | 'version'>;

/** What one look at the queue saw besides what it took. */
interface Look {
  /** It passed over a job whose queued tasks were all locked by other claims. */
  contended: boolean;
}

export interface ClaimOptions {
  /** Up to this many tasks (at most the node's free slots). */
  max?: number;
  /** The executions start RUNNING: the node runs them at once and sends no start. */
  start?: boolean;
}

/**
 * SQLite: the first look at the queue of each claim in one transaction, shared by the claims
 * of nodes alike in what they may run (pools, groups, resources). In the single-task
 * protocol a transaction holds up to 32 claims, and each ran the same dispatchable-jobs
 * query (11% of the server's time in bench/peer.ts --mode single). Within the claims of a
 * transaction the queue only shrinks (the finishes and starts that could add to it ran
 * first), so a look taken earlier names the same jobs in the same order, some perhaps
 * drained; a claim that finds one drained moves on, and looks afresh past the list. While
 * any dispatchable job has a machine limit or a node list, what a node may take depends on
 * the node itself (including jobs its look left out), and nothing is shared.
 */
class FirstLooks {
  readonly #looks = new Map<string, DispatchableJob[]>();
  #shared: Promise<boolean> | undefined;
  /** Known once the first `get` has asked; until then, and when false, nothing is kept. */
  #sharing = false;

  constructor(private readonly tx: Tx) {}

  static profile(node: NodeRow, pools: readonly string[], groups: readonly string[]): string {
    return JSON.stringify([pools, groups, node.cpus, node.mem, node.disk, node.gpus]);
  }

  async get(profile: string): Promise<DispatchableJob[] | undefined> {
    this.#shared ??= nodeSpecificJobsExist(this.tx).then((exist) => (this.#sharing = !exist));
    return (await this.#shared) ? this.#looks.get(profile) : undefined;
  }

  set(profile: string, jobs: DispatchableJob[]): void {
    if (this.#sharing) this.#looks.set(profile, jobs);
  }
}

/**
 * Hands tasks to nodes. An idle node's claim waits (long-poll) until an event says work may
 * be there, so a submission reaches an idle node without any polling delay; an event wakes
 * as many waiting nodes as it made tasks claimable (WaitQueue), not all of them.
 */
export class Dispatcher {
  readonly #waiting = new WaitQueue();
  readonly #unsubscribe: () => void;
  /** Closed: waiting claims end at once (the server is stopping). */
  #closed = false;
  /**
   * Job-type revisions never change once written, nor do a type's name and version, so
   * each is read once: two reads fewer per claim, each a round trip on PostgreSQL.
   */
  readonly #revisions = new Map<number, JobTypeRevisionRow>();
  readonly #types = new Map<number, JobTypeIdentity>();
  /**
   * Claims of every node share transactions with each other and with the finishes and
   * starts of the moment (the engine's WriteLane): in the single-task protocol with 8
   * nodes, a lone claim's begin and commit were 2 of its 8 statements.
   */
  readonly #claims: LaneKind<ClaimCall, Acquired[]> = {
    order: 2,
    max: MAX_CLAIMS_PER_TRANSACTION,
    write: async (_ctx, _settings, tx, emit, calls) => {
      if (this.ctx.dialect === 'postgres') return this.#claimGroupIn(tx, emit, calls);
      const answers: Acquired[][] = [];
      // A lone claim has no one to share its look with: asking whether it may would be one
      // statement more on the path of pickup latency, for nothing.
      const firstLooks = calls.length > 1 ? new FirstLooks(tx) : undefined;
      for (const call of calls) answers.push(await this.#claimIn(tx, emit, call, firstLooks));
      return answers;
    },
    // A group that threw is written again claim by claim.
    alone: (_ctx, _settings, call) =>
      inTransaction(this.ctx, (tx, emit) => this.#claimIn(tx, emit, call)),
  };
  dispatches = 0;
  /** Claims tried: each is a look at the queue (a transaction). */
  looks = 0;
  /** Claims waiting for work right now (idle nodes on a long-poll). */
  parked = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly onDispatch?: (queuedMs: number) => void,
  ) {
    this.#unsubscribe = ctx.bus.subscribe((event) => this.#waiting.handle(event));
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#waiting.wakeAll();
  }

  /** Waits up to `waitMs` for a task; undefined when none came. */
  async acquire(nodeId: number, waitMs = 0, signal?: AbortSignal): Promise<Acquired | undefined> {
    return (await this.claim(nodeId, { max: 1 }, waitMs, signal))[0];
  }

  /**
   * Waits up to `waitMs` for work; answers the tasks taken (none when the wait ran out, or
   * when `signal` fired: the caller is gone, and what was taken goes back).
   */
  async claim(
    nodeId: number,
    options: ClaimOptions,
    waitMs = 0,
    signal?: AbortSignal,
  ): Promise<Acquired[]> {
    const deadline = Date.now() + Math.min(waitMs, this.settings.maxAcquireWaitMs);
    let hops = 0;
    for (;;) {
      // A wait that ended because the client hung up or the server is stopping ends here,
      // with no further look: after close() the database may be closed, and a look then
      // threw out of a claim already answered (shutdown.test.ts, once under load). A wake
      // this waiter was given goes on to the next in line.
      if (signal?.aborted || this.#closed) {
        if (hops > 0 && !this.#closed) this.#waiting.wake(1, hops - 1);
        return [];
      }
      // Wait in line before looking, so an event between the look and the wait is not missed.
      let woken: ((hops: number) => void) | undefined;
      let wokenWith: number | undefined;
      const wake = new Promise<void>((resolve) => {
        woken = (h) => {
          wokenWith = h;
          resolve();
        };
      });
      const key = this.#waiting.add(nodeId, (h) => woken!(h));
      try {
        const look: Look = { contended: false };
        const taken = await this.#look(nodeId, options, look);
        if (taken.length > 0 && signal?.aborted) {
          await this.#giveBack(nodeId, taken, options.start ?? false);
          return [];
        }
        if (taken.length > 0) {
          // A wake that came while we looked was meant for work we may not have taken.
          if (wokenWith !== undefined) this.#waiting.wake(1, wokenWith);
          return taken;
        }
        // Nothing here for this node: the next in line may be able to take it.
        if (hops > 0) this.#waiting.wake(1, hops - 1);
        hops = 0;
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted || this.#closed) return [];
        // Queued tasks that other claims held locked (PostgreSQL's SKIP LOCKED) are theirs
        // or back in the queue within milliseconds, and no event will say which: look again
        // soon rather than wait for a wake that may not come.
        const pause = look.contended ? Math.min(left, CONTENDED_RETRY_MS) : left;
        this.parked++;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), pause);
          // Each wake-up loops back here; a listener left on the request's signal would
          // pile up (one per wake) until the request ends.
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          void wake.then(done);
          signal?.addEventListener('abort', done, { once: true });
        }).finally(() => this.parked--);
        hops = wokenWith ?? 0;
      } finally {
        this.#waiting.delete(key);
      }
    }
  }

  /**
   * The node hung up while its claim was being chosen: the tasks go straight back, with no
   * try counted (released if not started, aborted if the claim started them).
   */
  async #giveBack(nodeId: number, taken: readonly Acquired[], started: boolean): Promise<void> {
    const giveBack = started ? abortExecution : releaseExecution;
    for (const { execution } of taken) {
      await giveBack(this.ctx, execution.id, nodeId).catch(() => undefined);
    }
  }

  /** One atomic attempt: a single-task claim, or nothing. */
  async tryAcquire(nodeId: number): Promise<Acquired | undefined> {
    return (await this.tryClaim(nodeId, { max: 1 }))[0];
  }

  /** One atomic attempt to take up to `max` tasks. */
  async tryClaim(nodeId: number, options: ClaimOptions): Promise<Acquired[]> {
    return this.#look(nodeId, options, { contended: false });
  }

  async #look(nodeId: number, options: ClaimOptions, look: Look): Promise<Acquired[]> {
    this.looks++;
    const taken = await writeLane(this.ctx, this.settings).submit(this.#claims, {
      nodeId,
      options,
      look,
    });
    for (const one of taken) {
      this.dispatches++;
      this.onDispatch?.(one.queuedMs);
    }
    return taken;
  }

  async #claimIn(
    tx: Tx,
    emit: Emit,
    { nodeId, options, look }: ClaimCall,
    firstLooks?: FirstLooks,
  ): Promise<Acquired[]> {
    const ctx = this.ctx;
    const found = await nodeForClaim(tx, nodeId);
    if (!found) throw notFound('node', nodeId);
    const { node, live } = found;
    const now = ctx.clock();
    // An acquire is a sign of life; recording it once in a while is enough.
    if (node.state !== 'ONLINE' || (node.last_heartbeat ?? 0) < now - HEARTBEAT_WRITE_MS) {
      await updateNode(tx, nodeId, { last_heartbeat: now, state: 'ONLINE' });
      if (node.state !== 'ONLINE') {
        emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: node.enabled === 1 });
      }
    }
    if (node.enabled !== 1) return [];
    const want = Math.min(Math.max(1, Math.min(options.max ?? 1, MAX_CLAIM)), node.slots - live);
    if (want <= 0) return [];
    const pools = JSON.parse(node.pools_json) as string[];
    const groups = JSON.parse(node.groups_json) as string[];
    const skipped: number[] = [];
    const taken: Acquired[] = [];
    const profile = FirstLooks.profile(node, pools, groups);
    while (skipped.length <= MAX_SKIPPED_JOBS) {
      const reused = skipped.length === 0 ? await firstLooks?.get(profile) : undefined;
      const jobs =
        reused ??
        (await dispatchableJobs(tx, ctx.dialect, node, pools, groups, skipped, JOBS_PER_LOOK));
      if (skipped.length === 0 && !reused) firstLooks?.set(profile, jobs);
      if (jobs.length === 0) break;
      for (const candidate of jobs) {
        // Whatever happens below, this job has given this claim all it will.
        skipped.push(candidate.id);
        // The query saw the limit without locks; under the job's lock, concurrent claims
        // of the same job count each other, so the limit holds.
        if (
          candidate.machine_limit > 0 &&
          (await this.#overMachineLimit(tx, candidate.id, nodeId))
        ) {
          continue;
        }
        const tasks = await queuedTasksOf(tx, ctx.dialect, candidate.id, want - taken.length);
        if (tasks.length === 0) {
          // A reused look may name a job that an earlier claim of this transaction drained.
          if (!reused) look.contended = true;
          continue;
        }
        const claimed = await dispatchTasks(ctx, tx, emit, candidate.id, tasks, nodeId, {
          leaseMs: this.settings.leaseMs,
          start: options.start ?? false,
          skipLockedJob: true,
        });
        if (!claimed) {
          // Another transaction holds the job: its tasks are free again in milliseconds.
          look.contended = true;
          continue;
        }
        const { dispatched, job } = claimed;
        const type = await this.#type(tx, job.job_type_id);
        const revision = await this.#revision(tx, job.job_type_rev_id);
        if (!type || !revision) throw notFound('job type', job.job_type_id);
        // `dispatched` is in the order of `tasks`, whose rows still say when each was queued.
        dispatched.forEach(({ execution, task }, i) => {
          const queuedMs = Math.max(0, now - tasks[i]!.last_status_change);
          taken.push({ execution, task, job, type, revision, queuedMs });
        });
        if (taken.length >= want) return taken;
      }
    }
    return taken;
  }

  /**
   * PostgreSQL: the group's claims in one round trip (claimGroup), each walking the queue as
   * #claimIn does; then the events and work orders of what each took. A group of N claims
   * was 4N round trips, each a turn of a busy server's event loop, while the group's
   * transaction held the row locks of every job it had claimed from.
   */
  async #claimGroupIn(
    tx: Tx,
    emit: Emit,
    calls: readonly ClaimCall[],
  ): Promise<(Acquired[] | ItemFailure)[]> {
    const ctx = this.ctx;
    const now = ctx.clock();
    const results = await claimGroup(
      tx,
      calls.map(({ nodeId, options }) => ({
        nodeId,
        max: options.max ?? 1,
        start: options.start ?? false,
      })),
      {
        now,
        leaseExpiresAt: now + this.settings.leaseMs,
        heartbeatBefore: now - HEARTBEAT_WRITE_MS,
        maxClaim: MAX_CLAIM,
        maxSkippedJobs: MAX_SKIPPED_JOBS,
        jobsPerLook: JOBS_PER_LOOK,
      },
    );
    // Each job's row as the group left it (counters moved by every claim of it), taken out
    // of QUEUED once, whichever claim took its first task.
    const jobs = new Map<number, JobRow>();
    for (const { taken } of results) for (const { job } of taken) jobs.set(job.id, job);
    for (const [id, job] of jobs) {
      if (job.state === 'QUEUED') jobs.set(id, await changeJobState(ctx, tx, emit, job, 'start'));
    }
    const answers: (Acquired[] | ItemFailure)[] = [];
    for (const [i, result] of results.entries()) {
      const { nodeId, options, look } = calls[i]!;
      if (!result.found) {
        answers.push(new ItemFailure(notFound('node', nodeId)));
        continue;
      }
      if (result.priorState !== 'ONLINE') {
        emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: result.enabled });
      }
      if (result.contended) look.contended = true;
      const acquired: Acquired[] = [];
      for (const { execution, task, job: claimed, queuedAt } of result.taken) {
        const job = jobs.get(claimed.id)!;
        const type = await this.#type(tx, job.job_type_id);
        const revision = await this.#revision(tx, job.job_type_rev_id);
        if (!type || !revision) throw notFound('job type', job.job_type_id);
        emitExecutionMoved(emit, execution, null, 'ACQUIRED');
        if (options.start) emitExecutionMoved(emit, execution, 'ACQUIRED', 'RUNNING');
        acquired.push({
          execution,
          task,
          job,
          type,
          revision,
          queuedMs: Math.max(0, now - queuedAt),
        });
      }
      // One event per job a claim took tasks of, as dispatchTasks emits.
      const byJob = new Map<number, number[]>();
      for (const { task } of acquired) {
        byJob.set(task.job_id, [...(byJob.get(task.job_id) ?? []), task.id]);
      }
      for (const [jobId, taskIds] of byJob) {
        emit({
          type: 'task.state',
          jobId,
          taskIds,
          count: taskIds.length,
          from: 'QUEUED',
          to: 'RUNNING',
        });
      }
      answers.push(acquired);
    }
    return answers;
  }

  #type(tx: Tx, id: number): Promise<JobTypeIdentity | undefined> {
    return readOnce(this.#types, id, async () => {
      const row = await findJobType(tx, id);
      return row && { id: row.id, name: row.name, version: row.version };
    });
  }

  #revision(tx: Tx, id: number): Promise<JobTypeRevisionRow | undefined> {
    return readOnce(this.#revisions, id, () => findRevisionById(tx, id));
  }

  async #overMachineLimit(tx: Tx, jobId: number, nodeId: number): Promise<boolean> {
    const job = await lockJob(tx, this.ctx.dialect, jobId);
    if (!job) return true;
    return (
      !(await nodeHoldsJob(tx, jobId, nodeId)) &&
      (await otherNodesOnJob(tx, jobId, nodeId, job.machine_limit_release)) >= job.machine_limit
    );
  }
}
