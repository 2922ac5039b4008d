import { notFound } from '../../domain/errors.js';
import {
  dispatchableJobs,
  fairHeads,
  inClaimOrder,
  nodesForClaim,
  type DispatchableJob,
  queuedTasksFor,
  queuedTasksOf,
} from '../../store/claim-looks.js';
import { preferredPage } from '../../store/claim-preferences.js';
import type { Tx } from '../../store/database.js';
import { nodeHoldsJob, otherNodesOnJob } from '../../store/executions.js';
import { lockJob } from '../../store/jobs.js';
import { limitRoom } from '../../store/limits.js';
import { capacityRoom } from '../../store/node-capacity.js';
import { updateNode } from '../../store/nodes.js';
import { burstRoom } from '../../store/pools.js';
import type { JobRow, NodeRow } from '../../store/schema.js';
import { inTransaction, type Emit, type EngineContext } from '../context.js';
import { abortExecution, releaseExecution } from '../executions/execution-reports.js';
import type { EngineSettings } from '../settings.js';
import { claimGroupIn, gatherClaims } from './claim-group.js';
import {
  FAIR_WINDOW,
  HEARTBEAT_WRITE_MS,
  JOBS_PER_LOOK,
  JobTypeRows,
  MAX_CLAIM,
  MAX_SKIPPED_JOBS,
  type Acquired,
  type ClaimCall,
  type ClaimOptions,
  type Look,
} from './claim-walk.js';
import { ClaimWrites, type HeldClaim } from './claim-writes.js';
import { FirstLooks } from './first-looks.js';
import { dispatchTasks, giveGpus, type Dispatched } from './task-dispatch.js';
import { WaitQueue } from './wait-queue.js';
import type { WaitSignal } from './wait-signal.js';
import { writeLane, type LaneKind } from './write-lane.js';

/** How soon a claim that found only tasks locked by other claims looks again. */
const CONTENDED_RETRY_MS = 5;

/**
 * The most claims one transaction takes: each holds the rows it claimed (on PostgreSQL,
 * its jobs' row locks) until the last of the group is done.
 */
const MAX_CLAIMS_PER_TRANSACTION = 32;

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
  readonly #rows = new JobTypeRows();
  /**
   * Claims of every node share transactions with each other and with the finishes and
   * starts of the moment (the engine's WriteLane): in the single-task protocol with 8
   * nodes, a lone claim's begin and commit were 2 of its 8 statements.
   */
  readonly #claims: LaneKind<ClaimCall, Acquired[]> = {
    order: 2,
    max: MAX_CLAIMS_PER_TRANSACTION,
    // PostgreSQL: the claims go in the lane's statement (LaneEnd.run), with the finishes.
    gather: (settings, calls, end) => {
      if (this.ctx.dialect === 'postgres') gatherClaims(settings, calls, end);
    },
    write: async (_ctx, _settings, tx, emit, calls, end) => {
      if (this.ctx.dialect === 'postgres')
        return claimGroupIn(this.ctx, this.#rows, tx, emit, calls, end);
      return this.#claimAllIn(tx, emit, calls);
    },
    // A group that threw is written again claim by claim.
    alone: (_ctx, _settings, call) =>
      inTransaction(this.ctx, async (tx, emit) => (await this.#claimAllIn(tx, emit, [call]))[0]!),
  };
  dispatches = 0;
  /** Claims tried: each is a look at the queue (a transaction). */
  looks = 0;
  /** Claims waiting for work right now (idle nodes on a long-poll). */
  parked = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly onDispatch?: (one: Acquired) => void,
  ) {
    this.#unsubscribe = ctx.bus.subscribe((event) => this.#waiting.handle(event));
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#waiting.wakeAll();
  }

  /** Waits up to `waitMs` for a task; undefined when none came. */
  async acquire(nodeId: number, waitMs = 0, signal?: WaitSignal): Promise<Acquired | undefined> {
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
    signal?: WaitSignal,
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
        let ranOut = false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            ranOut = true;
            done();
          }, pause);
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
        // The wait ran out with no wake: the answer is "nothing", without a look at a queue
        // that no event said had changed. The node's next claim looks at once; looking here
        // too made two looks of every idle node's long-poll (bench/nodes.ts, 4,000 idle
        // nodes: 12,017 looks where 6,000 or so had to be). The timer says so, not the wall
        // clock: a timer may fire a millisecond before Date.now() reaches the deadline (the
        // two read different clocks), and the claim then looked a second time (CI, once).
        if (wokenWith === undefined && !look.contended && ranOut) return [];
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
      this.onDispatch?.(one);
    }
    return taken;
  }

  /**
   * SQLite: the claims of one transaction in turn, their tasks of plain jobs written together
   * at the end (ClaimWrites), then each claim's work orders.
   */
  async #claimAllIn(tx: Tx, emit: Emit, calls: readonly ClaimCall[]): Promise<Acquired[][]> {
    // A lone claim has no one to share its look with: asking whether it may would be one
    // statement more on the path of pickup latency, for nothing.
    const firstLooks = calls.length > 1 ? new FirstLooks(tx) : undefined;
    const writes = new ClaimWrites(this.ctx, tx, emit, this.settings.leaseMs);
    const nodes = await nodesForClaim(tx, [...new Set(calls.map((c) => c.nodeId))]);
    // What the claims still to come may take: how far ahead a job's queue is read.
    let ahead = calls.reduce((n, c) => n + Math.min(c.options.max ?? 1, MAX_CLAIM), 0);
    const parts: ClaimPart[][] = [];
    for (const call of calls) {
      const node = nodes.get(call.nodeId);
      if (!node) throw notFound('node', call.nodeId);
      parts.push(await this.#claimIn(tx, emit, call, node, writes, ahead, firstLooks));
      ahead -= Math.min(call.options.max ?? 1, MAX_CLAIM);
    }
    await writes.flush();
    const answers: Acquired[][] = [];
    for (const claimParts of parts) {
      const acquired: Acquired[] = [];
      for (const part of claimParts) {
        if ('acquired' in part) {
          acquired.push(...part.acquired);
          continue;
        }
        const { dispatched, job } = writes.written(part.held);
        acquired.push(...(await this.#workOrders(tx, dispatched, job, part.queuedMs)));
      }
      answers.push(acquired);
    }
    return answers;
  }

  /** The work orders of a job's dispatched tasks; `queuedMs` in the order of `dispatched`. */
  async #workOrders(
    tx: Tx,
    dispatched: readonly Dispatched[],
    job: JobRow,
    queuedMs: readonly number[],
  ): Promise<Acquired[]> {
    const type = await this.#rows.type(tx, job.job_type_id);
    const revision = await this.#rows.revision(tx, job.job_type_rev_id);
    if (!type || !revision) throw notFound('job type', job.job_type_id);
    return dispatched.map(({ execution, task }, i) => ({
      execution,
      task,
      job,
      type,
      revision,
      queuedMs: queuedMs[i]!,
    }));
  }

  async #claimIn(
    tx: Tx,
    emit: Emit,
    { nodeId, options, look }: ClaimCall,
    found: { node: NodeRow; live: number },
    writes: ClaimWrites,
    ahead: number,
    firstLooks?: FirstLooks,
  ): Promise<ClaimPart[]> {
    const ctx = this.ctx;
    const { node, live } = found;
    const now = ctx.clock();
    // An acquire is a sign of life; recording it once in a while is enough.
    if (node.state !== 'ONLINE' || (node.last_heartbeat ?? 0) < now - HEARTBEAT_WRITE_MS) {
      await updateNode(tx, nodeId, { last_heartbeat: now, state: 'ONLINE' });
      if (node.state !== 'ONLINE') {
        emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: node.enabled === 1 });
      }
      // The node's next claim in this transaction sees it so.
      node.last_heartbeat = now;
      node.state = 'ONLINE';
    }
    if (node.enabled !== 1) return [];
    // The node's slots in use: what it held when read, and what this transaction took for it.
    const busy = live + writes.onNode(nodeId);
    const want = Math.min(Math.max(1, Math.min(options.max ?? 1, MAX_CLAIM)), node.slots - busy);
    if (want <= 0) return [];
    const pools = JSON.parse(node.pools_json) as string[];
    const groups = JSON.parse(node.groups_json) as string[];
    const skipped: number[] = [];
    const taken: ClaimPart[] = [];
    let count = 0;
    const profile = FirstLooks.profile(node, pools, groups);
    const prefer = options.prefer ?? [];
    while (skipped.length <= MAX_SKIPPED_JOBS) {
      // Session affinity: a claim that prefers jobs reads its own page (never shared).
      const reused =
        skipped.length === 0 && prefer.length === 0 ? await firstLooks?.get(profile) : undefined;
      // A fresh look reads the jobs' counters: the held claims are written first.
      if (!reused) await writes.flush();
      let jobs =
        reused ??
        (prefer.length > 0
          ? await preferredPage(
              tx,
              ctx.dialect,
              node,
              pools,
              groups,
              prefer,
              skipped,
              JOBS_PER_LOOK,
            )
          : await dispatchableJobs(tx, ctx.dialect, node, pools, groups, skipped, JOBS_PER_LOOK));
      // A preferring claim keeps its preferred jobs first (claim-preferences.ts), which an
      // order by fair share would undo: only a plain page is widened by the share holders.
      if (
        prefer.length === 0 &&
        jobs.length === JOBS_PER_LOOK &&
        jobs.some((j) => j.mode !== 'priority')
      ) {
        // Holders further below their share, or a balanced pool's jobs with fewer running
        // tasks, may have no job on this page (claim-walk.ts).
        const exclude = [...skipped, ...jobs.map((j) => j.id)];
        const heads = await fairHeads(tx, ctx.dialect, node, pools, groups, exclude, FAIR_WINDOW);
        const others = heads.filter(
          (h) =>
            h.mode === 'balanced' || !jobs.some((j) => j.pool === h.pool && j.holder === h.holder),
        );
        if (others.length > 0) jobs = inClaimOrder([...jobs, ...others]);
      }
      // A fair pool's order moves with every claim (migration 0037): never shared.
      if (
        skipped.length === 0 &&
        !reused &&
        prefer.length === 0 &&
        jobs.every((j) => j.mode === 'priority')
      ) {
        firstLooks?.set(profile, jobs);
      }
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
        // A plain job's tasks are held, and written with the others at the end (ClaimWrites).
        if (plain(candidate)) {
          const { claim, drained } = await writes.take(
            candidate.id,
            want - count,
            ahead,
            nodeId,
            options.start ?? false,
          );
          if (drained) firstLooks?.left(candidate.id, 0);
          if (!claim) continue;
          taken.push({
            held: claim,
            queuedMs: claim.tasks.map((t) => Math.max(0, now - t.last_status_change)),
          });
          count += claim.tasks.length;
          if (count >= want) return taken;
          continue;
        }
        // The look may be shared or older than a claim of this transaction: count again.
        let room =
          candidate.uses_limits === 0
            ? want - count
            : Math.min(want - count, await limitRoom(tx, candidate.id, node));
        // A burst limit is a hard cap, counted in this transaction (store/pools.ts).
        if (candidate.burst !== null && room > 0) {
          const burst = await burstRoom(
            tx,
            ctx.dialect,
            candidate.pool,
            candidate.share_by,
            candidate.holder,
            candidate.burst,
          );
          if (burst < 0) look.contended = true;
          room = Math.min(room, burst);
        }
        // Capacity is counted afresh in this transaction, which includes this group's claims.
        const capacity =
          candidate.uses_capacity === 0 || room <= 0
            ? undefined
            : await capacityRoom(tx, node, candidate.id);
        if (capacity) room = Math.min(room, capacity.room);
        if (room <= 0) continue;
        const tasks =
          candidate.pinned_retries === 0
            ? await queuedTasksOf(tx, ctx.dialect, candidate.id, room)
            : await queuedTasksFor(tx, ctx.dialect, candidate.id, nodeId, room);
        if (tasks.length === 0) {
          // A reused look may name a job that an earlier claim of this transaction drained.
          // A job whose queued tasks are retries bound elsewhere has nothing for this node.
          if (candidate.pinned_retries === 0) {
            if (!reused) look.contended = true;
            firstLooks?.left(candidate.id, 0);
          }
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
        firstLooks?.left(job.id, job.tasks_queued);
        if (capacity && capacity.gpusPerTask > 0) {
          await giveGpus(tx, dispatched, capacity.free.gpuIds, capacity.gpusPerTask);
        }
        // `dispatched` is in the order of `tasks`, whose rows still say when each was queued.
        const queuedMs = tasks.map((t) => Math.max(0, now - t.last_status_change));
        taken.push({ acquired: await this.#workOrders(tx, dispatched, job, queuedMs) });
        writes.took(nodeId, dispatched.length);
        count += dispatched.length;
        if (count >= want) return taken;
      }
    }
    return taken;
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

/** What one claim took of one job: its work orders, or tasks held for the transaction's end. */
type ClaimPart = { acquired: Acquired[] } | { held: HeldClaim; queuedMs: number[] };

/**
 * A job whose tasks any node the look found it for may take, and whose claim reads or
 * changes nothing another claim counts (ClaimWrites): no machine limit, limits, resources,
 * burst cap or retries bound to nodes, in a pool ordered by priority (a fair pool's order
 * reads the running counters that ClaimWrites moves at the end).
 */
function plain(job: DispatchableJob): boolean {
  return (
    job.machine_limit === 0 &&
    job.uses_limits === 0 &&
    job.uses_capacity === 0 &&
    job.burst === null &&
    job.pinned_retries === 0 &&
    job.mode === 'priority'
  );
}
