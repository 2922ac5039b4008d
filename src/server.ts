import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { archiveFileName } from './api/deadline/archive-names.js';
import { buildDeadlineApp } from './api/deadline/index.js';
import { checkExposure, type Config } from './config.js';
import { startEngine, type Engine } from './engine/engine.js';
import { startOnCompleteActions } from './engine/jobs/on-complete.js';
import { JOB_DEFINITION_FORMATS } from './formats/index.js';
import { isPostgresUrl } from './store/database.js';

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  /** http://host:port of the native API. */
  url: string;
  /** http://host:port of the Deadline Web Service dialect, when it is on. */
  deadlineUrl?: string;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

/** Starts one replica: engine (migrations included), reaper, HTTP. */
export async function startServer(config: Config, schema?: string): Promise<RunningServer> {
  checkExposure(config);
  const engine = await startEngine({
    url: config.db,
    ...(schema !== undefined ? { schema } : {}),
    ...(isPostgresUrl(config.db) ? {} : { synchronous: config.sqliteSync }),
    startReaper: true,
    startDeliverer: true,
    ...(config.smtpUrl
      ? { smtp: { url: config.smtpUrl, from: config.smtpFrom ?? 'drover@localhost' } }
      : {}),
    formats: JOB_DEFINITION_FORMATS,
    // PostgreSQL: uploads are staged here, on this replica, before they enter the database.
    stagingDir: join(config.dataDir, 'uploads'),
    settings: {
      uploadLimit: (config.maxUploadMb ?? 1000) * 1_000_000,
      leaseMs: config.leaseSeconds * 1000,
      nodeTimeoutMs: Math.max(config.leaseSeconds * 1500, 3000),
      reaperIntervalMs: Math.max(config.reaperSeconds * 1000, 100),
    },
  });
  const archiveDir = config.archiveDir ?? join(config.dataDir, 'archives');
  const onComplete = startOnCompleteActions(engine.ctx, { archiveDir, archiveFileName });
  let app: FastifyInstance | undefined;
  let deadline: FastifyInstance | undefined;
  try {
    app = await buildApp({
      engine,
      auth: config.auth,
      ...(config.anonymous ? { anonymous: config.anonymous } : {}),
      logLevel: config.logLevel,
      version: VERSION,
    });
    await app.listen({ host: config.host, port: config.port });
    if (config.deadlinePort) {
      deadline = await buildDeadlineApp({
        engine,
        auth: config.auth,
        archiveDir,
        logLevel: config.logLevel,
        version: VERSION,
      });
      await deadline.listen({ host: config.host, port: config.deadlinePort });
    }
  } catch (error) {
    await deadline?.close();
    await app?.close();
    await onComplete.stop();
    await engine.close();
    throw error;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const urlOf = (server: FastifyInstance, fallback: number) => {
    const address = server.server.address();
    return `http://${host}:${typeof address === 'object' && address ? address.port : fallback}`;
  };
  return {
    app,
    engine,
    url: urlOf(app, config.port),
    ...(deadline ? { deadlineUrl: urlOf(deadline, config.deadlinePort ?? 0) } : {}),
    /**
     * Stops accepting, answers every waiting request at once (long-polls with nothing,
     * streams closed), lets requests mid-write finish, then closes the engine. Waits are
     * ended first: closing the listeners waits for every open request, and a long-poll
     * left waiting held a shutdown for its whole wait (28–90 s).
     */
    async close() {
      engine.stopWaiting();
      await deadline?.close();
      await app.close();
      await onComplete.stop();
      await engine.close();
    },
  };
}
