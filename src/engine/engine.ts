import { blobStoreFor } from '../store/blob-store.js';
import { openDatabase, type DatabaseOptions, type OpenDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { systemClock, type Clock } from './clock.js';
import type { EngineContext } from './context.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { LeaseReaper } from './dispatch/lease-reaper.js';
import { DispatchMetrics } from './dispatch/metrics.js';
import { LocalEventBus, PostgresEventBus, type EventBus } from './events/event-bus.js';
import type { JobDefinitionFormat } from './job-types/job-definition-formats.js';
import { ensureBuiltinJobTypes } from './job-types/job-types.js';
import { FarmMetrics, ObservedBus } from './metrics/farm-metrics.js';
import { smtpEmailSender, type SmtpSettings } from './notifications/email-sender.js';
import { NotificationDeliverer } from './notifications/notification-deliverer.js';
import { PathMappingCache } from './pools/path-mapping.js';
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from './settings.js';
import { startAdaptiveChunking } from './tasks/adaptive-chunks.js';

const OPTIMIZE_INTERVAL_MS = 60 * 60 * 1000;

export interface EngineOptions extends DatabaseOptions {
  clock?: Clock;
  settings?: Partial<EngineSettings>;
  /** Run the reaper on a timer (servers do; tests call tick() themselves). */
  startReaper?: boolean;
  /** SQLite: the directory of blob files (default `<database file>-blobs`). */
  blobDir?: string;
  /** PostgreSQL: where uploads are staged before they go into the database. */
  stagingDir?: string;
  /** The job-definition formats this server speaks (src/formats/index.ts). */
  formats: readonly JobDefinitionFormat[];
  /** Send notifications from the outbox on a timer (servers do; tests call tick()). */
  startDeliverer?: boolean;
  /** The SMTP server email notifications go through; without it email rules are refused. */
  smtp?: SmtpSettings;
  /** Hosts webhooks may call (`host` or `*.domain`); undefined: any. */
  webhookHosts?: readonly string[];
  /**
   * Told when background work fails (re-chunking an adaptive job, which stays as it was);
   * default: a line on stderr.
   */
  onBackgroundError?: (message: string) => void;
}

function logToStderr(message: string): void {
  process.stderr.write(`${new Date().toISOString()} drover: ${message}\n`);
}

/** Everything the faces need from the engine: one per server process. */
export interface Engine {
  ctx: EngineContext;
  settings: EngineSettings;
  database: OpenDatabase;
  dispatcher: Dispatcher;
  reaper: LeaseReaper;
  metrics: DispatchMetrics;
  /** Queue waits, run times and failures by pool and job type, as this replica works. */
  farm: FarmMetrics;
  notifications: NotificationDeliverer;
  /** Re-chunks adaptive jobs as their tasks complete; `idle()` waits for work under way. */
  chunking: { idle(): Promise<void> };
  /** Pools' path mapping rules for the work orders (pools/path-mapping.ts). */
  pathMappings: PathMappingCache;
  /** Whether email notifications can be sent (an SMTP server is configured). */
  emailConfigured: boolean;
  /** The webhook host allow-list; undefined: any host. */
  webhookHosts: readonly string[] | undefined;
  /** Where work no request waits for (re-chunking, on-complete actions) reports a failure. */
  backgroundError: (message: string) => void;
  /** Fires when the server starts to stop: every request waiting for something ends. */
  stopping: AbortSignal;
  /** Ends every wait at once (long-polls answer "nothing"); the engine keeps working. */
  stopWaiting(): void;
  close(): Promise<void>;
}

/** Opens the database, brings its schema up to date, and starts the engine's services. */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const database = openDatabase(options);
  try {
    await migrateToLatest(database);
    const bus: EventBus =
      database.dialect === 'postgres'
        ? await PostgresEventBus.connect(options.url, database.schema!, options.replicaName)
        : new LocalEventBus();
    // Its reads of ended executions' facts go to SQLite's read connection: off the writer's.
    const farm = new FarmMetrics(database.readDb, database.dialect);
    const ctx: EngineContext = {
      db: database.db,
      dialect: database.dialect,
      // The engine's commits go through it: what they deliver is this replica's own work.
      bus: new ObservedBus(bus, farm),
      clock: options.clock ?? systemClock,
      blobs: blobStoreFor(database.dialect, database.url, {
        ...(options.blobDir !== undefined ? { blobDir: options.blobDir } : {}),
        ...(options.stagingDir !== undefined ? { stagingDir: options.stagingDir } : {}),
      }),
      formats: options.formats,
    };
    const settings = { ...DEFAULT_ENGINE_SETTINGS, ...options.settings };
    await ensureBuiltinJobTypes(ctx);
    database.optimize();
    const sweep = (): void => void ctx.blobs.sweep(database.db).catch(() => undefined);
    sweep();
    const optimizer = setInterval(() => {
      database.optimize();
      // Files of deleted blobs (and uploads a crash left staged) go within the hour.
      sweep();
    }, OPTIMIZE_INTERVAL_MS);
    optimizer.unref();
    const metrics = new DispatchMetrics();
    const dispatcher = new Dispatcher(ctx, settings, (one) => {
      metrics.recordDispatch(one.queuedMs);
      farm.recordDispatch(one);
    });
    farm.start();
    const reaper = new LeaseReaper(ctx, settings);
    if (options.startReaper) reaper.start();
    const email = options.smtp
      ? smtpEmailSender(options.smtp, settings.notificationTimeoutMs)
      : undefined;
    const notifications = new NotificationDeliverer(ctx, settings, email, options.webhookHosts);
    if (options.startDeliverer) notifications.start();
    const onBackgroundError = options.onBackgroundError ?? logToStderr;
    const chunking = startAdaptiveChunking(ctx, (jobId, error) =>
      onBackgroundError(
        `re-chunking job ${jobId} failed (its unclaimed tasks keep their chunks): ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
    const pathMappings = new PathMappingCache(ctx);
    const stopping = new AbortController();
    const stopWaiting = (): void => {
      stopping.abort();
      dispatcher.close();
    };
    return {
      ctx,
      settings,
      database,
      dispatcher,
      reaper,
      metrics,
      farm,
      notifications,
      chunking,
      pathMappings,
      emailConfigured: email !== undefined,
      webhookHosts: options.webhookHosts,
      backgroundError: onBackgroundError,
      stopping: stopping.signal,
      stopWaiting,
      async close() {
        clearInterval(optimizer);
        stopWaiting();
        await reaper.stop();
        await notifications.stop();
        await chunking.stop();
        await farm.stop();
        pathMappings.close();
        // Work still holding a connection commits, and its events go out, before the bus
        // and the database close.
        await database.close();
        await bus.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
