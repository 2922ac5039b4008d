import { taskStateMachine, type TaskState } from '../../domain/task-state.js';
import { queuedTasksOf } from '../../store/claim-looks.js';
import type { Tx } from '../../store/database.js';
import type { JobRow, TaskRow } from '../../store/schema.js';
import { claimTasksOfNodes } from '../../store/task-claims.js';
import type { Emit, EngineContext } from '../context.js';
import { changeJobStates, emitTasksMoved } from '../state-changes.js';
import { emitClaimed, runningTask, type Dispatched } from './task-dispatch.js';

/** Tasks of one job that one claim took, written with the transaction's other claims. */
export interface HeldClaim {
  jobId: number;
  nodeId: number;
  start: boolean;
  tasks: TaskRow[];
}

/** A job's queue as this transaction's claims see it. */
interface JobQueue {
  /** Read and not yet taken, in task order. */
  ahead: TaskRow[];
  /** Taken by this transaction's claims and not yet written: still QUEUED in the table. */
  held: Set<number>;
  /** The read found every queued task of the job. */
  complete: boolean;
}

/**
 * SQLite: the claims of one transaction that take tasks of plain jobs (no limits, machine
 * limit, resources, retries bound to nodes, and a pool ordered by priority) write them at
 * the end, three statements per job whatever the number of claims (store/task-claims.ts
 * claimTasksOfNodes). Claim by claim, a claim's job counters, executions and tasks were
 * three statements of its own, and the read of the job's queue a fourth; now a job's queue
 * is read once for the claims to come and handed out in order. Nothing a claim of another
 * job reads depends on these writes: a plain job's tasks ask for no resources and count
 * against no limit, and a node's slots count what it took here (onNode). A fresh look at
 * the queue does (a held job's counters still show its tasks queued): the dispatcher writes
 * what is held first (flush).
 */
export class ClaimWrites {
  readonly #queues = new Map<number, JobQueue>();
  /** Per job, in the order first taken; each job's claims in order. Not yet written. */
  #claims = new Map<number, HeldClaim[]>();
  readonly #onNode = new Map<number, number>();
  readonly #written = new Map<HeldClaim, { dispatched: Dispatched[]; job: JobRow }>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly tx: Tx,
    private readonly emit: Emit,
    private readonly leaseMs: number,
  ) {}

  /**
   * Tasks this transaction's claims took for the node, written or not: its slots in use are
   * what it held when the transaction read it and these (nodesForClaim).
   */
  onNode(nodeId: number): number {
    return this.#onNode.get(nodeId) ?? 0;
  }

  /** Counts tasks a claim wrote at once for the node (a job that is not plain). */
  took(nodeId: number, count: number): void {
    this.#onNode.set(nodeId, this.onNode(nodeId) + count);
  }

  /**
   * Up to `room` queued tasks of the job, in task order, held for the node; when what was
   * read of the job's queue runs short, reads up to `ahead` more for the claims to come.
   * `drained`: the job has no queued task left for a later claim.
   */
  async take(
    jobId: number,
    room: number,
    ahead: number,
    nodeId: number,
    start: boolean,
  ): Promise<{ claim: HeldClaim | undefined; drained: boolean }> {
    let queue = this.#queues.get(jobId);
    if (!queue) this.#queues.set(jobId, (queue = { ahead: [], held: new Set(), complete: false }));
    if (queue.ahead.length < room && !queue.complete) {
      // The held and read tasks are the first queued of the job: read past them.
      const known = queue.held.size + queue.ahead.length;
      const limit = known + Math.max(room, ahead);
      const read = await queuedTasksOf(this.tx, this.ctx.dialect, jobId, limit);
      const seen = new Set(queue.ahead.map((t) => t.id));
      queue.ahead.push(...read.filter((t) => !queue.held.has(t.id) && !seen.has(t.id)));
      queue.complete = read.length < limit;
    }
    const tasks = queue.ahead.splice(0, room);
    const drained = queue.complete && queue.ahead.length === 0;
    if (tasks.length === 0) return { claim: undefined, drained };
    for (const task of tasks) {
      taskStateMachine.apply(task.state as TaskState, 'dispatch', task.id);
      queue.held.add(task.id);
    }
    const claim = { jobId, nodeId, start, tasks };
    const claims = this.#claims.get(jobId);
    if (claims) claims.push(claim);
    else this.#claims.set(jobId, [claim]);
    this.took(nodeId, tasks.length);
    return { claim, drained };
  }

  /**
   * Writes the claims held so far, with the events dispatchTasks emits, and starts their jobs
   * still QUEUED (in one statement, changeJobStates).
   */
  async flush(): Promise<void> {
    if (this.#claims.size === 0) return;
    const { ctx, tx, emit } = this;
    const now = ctx.clock();
    const jobs = new Map<number, JobRow>();
    const dispatched = new Map<HeldClaim, Dispatched[]>();
    for (const [jobId, claims] of this.#claims) {
      const { executions, job } = await claimTasksOfNodes(
        tx,
        jobId,
        claims.flatMap((c) =>
          c.tasks.map((task) => ({
            taskId: task.id,
            nodeId: c.nodeId,
            state: c.start ? ('RUNNING' as const) : ('ACQUIRED' as const),
            leaseExpiresAt: now + this.leaseMs,
          })),
        ),
        now,
      );
      jobs.set(jobId, job);
      this.#queues.get(jobId)!.held.clear();
      let next = 0;
      for (const claim of claims) {
        const taskIds = claim.tasks.map((t) => t.id);
        emitTasksMoved(emit, jobId, taskIds, 'QUEUED', 'RUNNING');
        dispatched.set(
          claim,
          claim.tasks.map((task) => {
            const execution = executions[next++]!;
            emitClaimed(emit, execution, claim.start);
            return { execution, task: runningTask(task, claim.nodeId, now, execution.id) };
          }),
        );
      }
    }
    this.#claims = new Map();
    const starting = [...jobs.values()].filter((job) => job.state === 'QUEUED');
    for (const job of await changeJobStates(ctx, tx, emit, starting, 'start')) {
      jobs.set(job.id, job);
    }
    for (const [claim, d] of dispatched) {
      this.#written.set(claim, { dispatched: d, job: jobs.get(claim.jobId)! });
    }
  }

  /** A written claim's executions and tasks, and its job's row as its write left it. */
  written(claim: HeldClaim): { dispatched: Dispatched[]; job: JobRow } {
    const written = this.#written.get(claim);
    if (!written) throw new Error(`a claim of job ${claim.jobId} was not written`);
    return written;
  }
}
