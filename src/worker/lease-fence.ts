/**
 * The worker's own account of its leases, so that it stops a task before the server may
 * give it to another node: a worker cut off from a busy or unreachable server kept running
 * its tasks to their end while the server ran them again elsewhere (9 frames written twice
 * in 38 kills of the worker-containment run on PostgreSQL).
 *
 * The server dates a lease from its own clock when it writes it, which is after the request
 * that took or renewed it arrived, which is after the worker sent it. So the worker counts
 * each lease from the sending of that request: a heartbeat's answer says how long leases
 * last (`leaseMs`), a claim's also how long it waited on the server before it took its
 * tasks (`waitedMs`, its long-poll). Counted from the answer, as a claim once was, the
 * server's end came first by the commit and the way back (0.7 s under load). Neither clock
 * is read by the other side; only lengths cross the wire, so the two machines' clocks need
 * not agree (they only need to run at the same rate).
 *
 * The worker then stops the task a margin before that end (a quarter of the lease, at most
 * 5 s), with SIGKILL (TaskRun.leaseLapsed): the fence is looked at every 100 ms, the
 * worker's event loop may be late, and a command given SIGTERM's grace could outlive the
 * lease by all of it. The server requeues a task no sooner than its lease's end, when its
 * reaper (or a late report of the node) finds it over, so the command is dead before any
 * other node can start the task again.
 *
 * Times are the worker's monotonic clock (performance.now()).
 */
export class LeaseFence {
  /** A lease's whole length, from the last answer that said it. */
  #leaseMs: number | undefined;
  /**
   * Per execution, when its lease ends at the earliest, as `at` plus `ms` (`ms` undefined:
   * plus the lease's length, once an answer says it).
   */
  readonly #ends = new Map<number, { at: number; ms: number | undefined }>();

  /**
   * Executions a claim sent at `sentAt` took: their leases, of `leaseMs`, began `waitedMs`
   * after it arrived (the claim's answer). From a server that does not say, they are
   * counted from `answeredAt`, the best the worker can do.
   */
  claimed(
    ids: readonly number[],
    times: { sentAt: number; answeredAt: number },
    answer: { leaseMs?: number | undefined; waitedMs?: number | undefined },
  ): void {
    const { leaseMs, waitedMs } = answer;
    const told = valid(leaseMs) && waitedMs !== undefined && Number.isFinite(waitedMs);
    if (valid(leaseMs)) this.#leaseMs = leaseMs;
    const end = told
      ? { at: times.sentAt + Math.max(0, waitedMs), ms: leaseMs }
      : { at: times.answeredAt, ms: undefined };
    for (const id of ids) this.#ends.set(id, end);
  }

  /** A heartbeat sent at `sentAt` renewed these executions' leases, of `leaseMs` each. */
  renewed(ids: readonly number[], sentAt: number, leaseMs: number | undefined): void {
    if (valid(leaseMs)) this.#leaseMs = leaseMs;
    const end = { at: sentAt, ms: valid(leaseMs) ? leaseMs : undefined };
    for (const id of ids) {
      const before = this.#ends.get(id);
      if (!before || this.#endOf(end) > this.#endOf(before)) this.#ends.set(id, end);
    }
  }

  forget(id: number): void {
    this.#ends.delete(id);
  }

  /** How long before a lease's end its task is stopped. */
  get marginMs(): number | undefined {
    return this.#leaseMs === undefined ? undefined : fenceMarginMs(this.#leaseMs);
  }

  /**
   * The executions to stop at `now`: their lease ends within the margin; `sinceMs`, how
   * long ago it was last renewed (or taken).
   */
  lapsed(now: number): { id: number; sinceMs: number }[] {
    const margin = this.marginMs;
    if (margin === undefined) return [];
    const out: { id: number; sinceMs: number }[] = [];
    for (const [id, end] of this.#ends) {
      if (now >= this.#endOf(end) - margin) out.push({ id, sinceMs: now - end.at });
    }
    return out;
  }

  #endOf(end: { at: number; ms: number | undefined }): number {
    const ms = end.ms ?? this.#leaseMs;
    return ms === undefined ? Infinity : end.at + ms;
  }
}

/** A quarter of the lease, at most 5 s: a 60 s lease stops its task 55 s after renewal. */
export function fenceMarginMs(leaseMs: number): number {
  return Math.min(leaseMs / 4, 5000);
}

function valid(ms: number | undefined): ms is number {
  return ms !== undefined && Number.isFinite(ms) && ms > 0;
}
