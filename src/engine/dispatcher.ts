import { notFound } from '../domain/errors.js';
import type { Tx } from '../store/database.js';
import {
  findDispatchableTask,
  liveExecutionsOfNode,
  nodeHoldsJob,
  otherNodesOnJob,
} from '../store/executions.js';
import { lockJob } from '../store/jobs.js';
import { findNode, updateNode } from '../store/nodes.js';
import type { ExecutionRow } from '../store/schema.js';
import { inTransaction, type Emit, type EngineContext } from './context.js';
import type { DroverEvent } from './events.js';
import type { EngineSettings } from './settings.js';
import { dispatchTask } from './task-dispatch.js';

/** How stale a node's recorded heartbeat may get before an acquire refreshes it. */
const HEARTBEAT_WRITE_MS = 5_000;

/** Jobs a node may skip in one acquire because of their machine limit, before giving up. */
const MAX_SKIPPED_JOBS = 20;

export interface Acquired {
  execution: ExecutionRow;
  /** Milliseconds the task waited in the queue before this dispatch. */
  queuedMs: number;
}

/** Events after which an idle node may find work it did not find before. */
function mayFreeWork(event: DroverEvent): boolean {
  return event.type !== 'log.appended' && event.type !== 'task.progress';
}

/**
 * Hands tasks to nodes. An idle node's acquire waits (long-poll) until an event says work
 * may be there, so a submission reaches an idle node without any polling delay.
 */
export class Dispatcher {
  readonly #waiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  dispatches = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly onDispatch?: (queuedMs: number) => void,
  ) {
    this.#unsubscribe = ctx.bus.subscribe((event) => {
      if (!mayFreeWork(event)) return;
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    });
  }

  close(): void {
    this.#unsubscribe();
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Waits up to `waitMs` for a task; undefined when none came. */
  async acquire(nodeId: number, waitMs = 0, signal?: AbortSignal): Promise<Acquired | undefined> {
    const deadline = Date.now() + Math.min(waitMs, this.settings.maxAcquireWaitMs);
    for (;;) {
      // Subscribe before looking, so an event between the look and the wait is not missed.
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.#waiters.add(wake);
      try {
        const acquired = await this.tryAcquire(nodeId);
        if (acquired) return acquired;
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), left);
          // Each wake-up loops back here; a listener left on the request's signal would
          // pile up (one per wake) until the request ends.
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          void woken.then(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      } finally {
        this.#waiters.delete(wake);
      }
    }
  }

  /** One atomic attempt. */
  async tryAcquire(nodeId: number): Promise<Acquired | undefined> {
    const result = await inTransaction(this.ctx, (tx, emit) => this.#acquireIn(tx, emit, nodeId));
    if (result) {
      this.dispatches++;
      this.onDispatch?.(result.queuedMs);
    }
    return result;
  }

  async #acquireIn(tx: Tx, emit: Emit, nodeId: number): Promise<Acquired | undefined> {
    const ctx = this.ctx;
    const node = await findNode(tx, nodeId);
    if (!node) throw notFound('node', nodeId);
    const now = ctx.clock();
    // An acquire is a sign of life; recording it once in a while is enough.
    if (node.state !== 'ONLINE' || (node.last_heartbeat ?? 0) < now - HEARTBEAT_WRITE_MS) {
      await updateNode(tx, nodeId, { last_heartbeat: now, state: 'ONLINE' });
      if (node.state !== 'ONLINE') {
        emit({ type: 'node.state', nodeId, state: 'ONLINE', enabled: node.enabled === 1 });
      }
    }
    if (node.enabled !== 1) return undefined;
    if ((await liveExecutionsOfNode(tx, nodeId)).length >= node.slots) return undefined;
    const pools = JSON.parse(node.pools_json) as string[];
    const groups = JSON.parse(node.groups_json) as string[];
    const skipped: number[] = [];
    while (skipped.length <= MAX_SKIPPED_JOBS) {
      const candidate = await findDispatchableTask(tx, ctx.dialect, node, pools, groups, skipped);
      if (!candidate) return undefined;
      const { task } = candidate;
      // The query saw the limit without locks; under the job's lock, concurrent acquirers
      // of the same job count each other, so the limit holds.
      if (candidate.machineLimit > 0 && (await this.#overMachineLimit(tx, task.job_id, nodeId))) {
        skipped.push(task.job_id);
        continue;
      }
      const { execution } = await dispatchTask(ctx, tx, emit, task, nodeId, this.settings.leaseMs);
      return { execution, queuedMs: Math.max(0, now - task.last_status_change) };
    }
    return undefined;
  }

  async #overMachineLimit(tx: Tx, jobId: number, nodeId: number): Promise<boolean> {
    const job = await lockJob(tx, this.ctx.dialect, jobId);
    if (!job) return true;
    return (
      !(await nodeHoldsJob(tx, jobId, nodeId)) &&
      (await otherNodesOnJob(tx, jobId, nodeId)) >= job.machine_limit
    );
  }
}
