import type { DialectName, Executor } from '../../store/database.js';
import {
  endedExecutionFacts,
  errorCategories,
  type EndedExecutionFacts,
} from '../../store/execution-metrics.js';
import type { EventBus } from '../events/event-bus.js';
import type { DroverEvent } from '../events/events.js';
import { BoundedCounter, BoundedHistogram } from './labeled-series.js';

/*
 * The farm's series that this replica counts as its own work happens, so that summed over
 * replicas each dispatch and each execution's end counts once: queue waits as this replica
 * dispatches, run times and failures as its transactions commit the ends. Ends come from
 * the events this replica's own commits deliver (never another replica's, which reach it
 * over the bus too); the facts of each (pool, job type, times, error) are read in batches
 * off the request path, and at each scrape so a scrape shows every end committed before it.
 */

/** Label sets per series family; past it, "(other)". Pools × job types a dashboard shows. */
const MAX_SERIES = 100;
/** Ends waiting for their facts; past it they are dropped (and counted). */
const MAX_PENDING = 100_000;
const CHUNK = 500;
const FLUSH_MS = 1_000;
const CATEGORY_TTL_MS = 60_000;

const QUEUE_WAIT_BOUNDS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14_400, 86_400];
const RUN_BOUNDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];

export class FarmMetrics {
  readonly queueWait = new BoundedHistogram(
    'drover_task_queue_wait_seconds',
    `Time tasks waited QUEUED before this replica dispatched them, by pool and job type (at most ${MAX_SERIES} pairs, then "(other)").`,
    ['pool', 'job_type'],
    MAX_SERIES,
    QUEUE_WAIT_BOUNDS,
  );
  readonly runDuration = new BoundedHistogram(
    'drover_task_run_duration_seconds',
    `Start-to-end time of executions that completed, as this replica committed them, by pool and job type (at most ${MAX_SERIES} pairs).`,
    ['pool', 'job_type'],
    MAX_SERIES,
    RUN_BOUNDS,
  );
  readonly failures = new BoundedCounter(
    'drover_execution_failures_total',
    `Executions that failed (node lost and timeouts included), as this replica committed them, by pool, job type and error category (at most ${MAX_SERIES} sets).`,
    ['pool', 'job_type', 'category'],
    MAX_SERIES,
  );
  /** Ends whose facts were never read: more than MAX_PENDING waited at once. */
  dropped = 0;
  #pending: number[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #categories: { at: number; byName: Map<string, string> } | undefined;

  constructor(
    private readonly db: Executor,
    private readonly dialect: DialectName,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#flushing.catch(() => undefined);
  }

  recordDispatch(d: { queuedMs: number; job: { pool: string }; type: { name: string } }): void {
    this.queueWait.observe({ pool: d.job.pool, job_type: d.type.name }, d.queuedMs / 1000);
  }

  /** Notes the ends among a committed transaction's events. */
  observe(events: readonly DroverEvent[]): void {
    for (const e of events) {
      if (e.type !== 'execution.state' || (e.to !== 'COMPLETED' && e.to !== 'FAILED')) continue;
      if (this.#pending.length >= MAX_PENDING) this.dropped++;
      else this.#pending.push(e.executionId);
    }
  }

  /** Reads the facts of the ends noted so far and counts them; one flush at a time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.catch(() => undefined).then(() => this.#flushNow());
    return this.#flushing;
  }

  async #flushNow(): Promise<void> {
    while (this.#pending.length > 0) {
      const ids = this.#pending.splice(0, CHUNK);
      let facts: EndedExecutionFacts[];
      try {
        facts = await endedExecutionFacts(this.db, this.dialect, ids);
      } catch (error) {
        // The database is away: keep the ends for the next flush.
        this.#pending.unshift(...ids);
        throw error;
      }
      for (const f of facts) await this.#count(f);
    }
  }

  async #count(f: EndedExecutionFacts): Promise<void> {
    const labels = { pool: f.pool, job_type: f.job_type };
    if (f.state === 'COMPLETED') {
      if (f.started_at !== null && f.ended_at !== null) {
        this.runDuration.observe(labels, Math.max(0, f.ended_at - f.started_at) / 1000);
      }
    } else if (f.state === 'FAILED') {
      this.failures.inc({ ...labels, category: await this.#category(f.error_name, f.job_type) });
    }
  }

  async #category(errorName: string | null, jobType: string): Promise<string> {
    if (errorName === null) return 'UNKNOWN';
    const now = Date.now();
    if (!this.#categories || now - this.#categories.at > CATEGORY_TTL_MS) {
      const byName = new Map<string, string>();
      for (const r of await errorCategories(this.db)) {
        byName.set(`${r.job_type_name ?? ''}\0${r.name}`, r.category);
      }
      this.#categories = { at: now, byName };
    }
    const { byName } = this.#categories;
    return byName.get(`${jobType}\0${errorName}`) ?? byName.get(`\0${errorName}`) ?? 'UNKNOWN';
  }

  render(): string[] {
    return [
      ...this.queueWait.render(),
      ...this.runDuration.render(),
      ...this.failures.render(),
      '# HELP drover_metrics_dropped_ends_total Execution ends not counted in the run-time and failure series (too many waited at once).',
      '# TYPE drover_metrics_dropped_ends_total counter',
      `drover_metrics_dropped_ends_total ${this.dropped}`,
    ];
  }
}

/**
 * The bus as the engine's transactions see it: what they deliver is this replica's own
 * commits, noted by `metrics` on the way. Subscribers (and the other replicas) get it all
 * unchanged.
 */
export class ObservedBus implements EventBus {
  constructor(
    private readonly inner: EventBus,
    private readonly metrics: FarmMetrics,
  ) {}

  get down(): string | undefined {
    return this.inner.down;
  }

  get peersListening(): boolean | undefined {
    return this.inner.peersListening;
  }

  deliver(events: Parameters<EventBus['deliver']>[0]): void {
    this.metrics.observe(events);
    this.inner.deliver(events);
  }

  subscribe(listener: Parameters<EventBus['subscribe']>[0]): () => void {
    return this.inner.subscribe(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
