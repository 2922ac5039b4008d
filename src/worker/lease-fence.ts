/**
 * The worker's own account of its leases. A lease was last renewed by a heartbeat the
 * worker sent at some moment and the server answered without withdrawing the task, so the
 * server holds it at least until that moment plus the lease's length: the server renews
 * from when the request reached it, which is later. A claim counts from its answer (it may
 * have waited on the server for work, and the lease starts when it took the task): a few
 * milliseconds late, by the answer's way back.
 *
 * Past that, the server may have given the task to another node, and a task that goes on
 * runs twice: a worker cut off from a busy or unreachable server kept running its tasks
 * to their end, while the server ran them again elsewhere (9 frames written twice in 38
 * kills of the worker-containment run on PostgreSQL). The worker stops such a task.
 *
 * Times are the worker's monotonic clock (performance.now()); the lease's length comes
 * from the server's heartbeat answers, so until the first one nothing is fenced.
 */
export class LeaseFence {
  #leaseMs: number | undefined;
  readonly #renewedAt = new Map<number, number>();

  /** Executions a claim answered at `answeredAt` took. */
  claimed(ids: readonly number[], answeredAt: number): void {
    for (const id of ids) this.#renewedAt.set(id, answeredAt);
  }

  /** A heartbeat sent at `sentAt` renewed these executions' leases, of `leaseMs` each. */
  renewed(ids: readonly number[], sentAt: number, leaseMs: number | undefined): void {
    if (leaseMs !== undefined && Number.isFinite(leaseMs) && leaseMs > 0) this.#leaseMs = leaseMs;
    for (const id of ids) {
      if ((this.#renewedAt.get(id) ?? -Infinity) < sentAt) this.#renewedAt.set(id, sentAt);
    }
  }

  forget(id: number): void {
    this.#renewedAt.delete(id);
  }

  /** The executions whose lease has run out at `now`, with how long ago it was renewed. */
  lapsed(now: number): { id: number; sinceMs: number }[] {
    const leaseMs = this.#leaseMs;
    if (leaseMs === undefined) return [];
    const out: { id: number; sinceMs: number }[] = [];
    for (const [id, at] of this.#renewedAt) {
      if (now >= at + leaseMs) out.push({ id, sinceMs: now - at });
    }
    return out;
  }
}
