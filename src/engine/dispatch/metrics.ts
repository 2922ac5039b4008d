/** In-process counters of one replica; /metrics adds database counts at scrape time. */
export class DispatchMetrics {
  dispatches = 0;
  /** Seconds from a task entering the queue to a node acquiring it. */
  static readonly BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  readonly bucketCounts = DispatchMetrics.BUCKETS.map(() => 0);
  latencySum = 0;

  recordDispatch(queuedMs: number): void {
    this.dispatches++;
    const seconds = queuedMs / 1000;
    this.latencySum += seconds;
    DispatchMetrics.BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.bucketCounts[i]!++;
    });
  }
}
