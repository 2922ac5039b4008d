import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { archiveFileName } from './api/deadline/archive-names.js';
import { buildDeadlineApp } from './api/deadline/index.js';
import { checkExposure, SERVE_OPTIONS, type Config } from './config.js';
import { VERSION } from './domain/version.js';
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

export { VERSION };

/** What listens on each port setting, and whether it can be turned off with 0. */
const FACES: Record<'port' | 'deadlinePort', { what: string; canBeOff: boolean }> = {
  port: { what: 'the native API and web UI listener', canBeOff: false },
  deadlinePort: { what: 'the Deadline Web Service listener', canBeOff: true },
};

/**
 * Listens, and turns a port that is taken into a sentence that names the face and the
 * option that moves it (or turns it off) instead of a bare EADDRINUSE: the second face's
 * default port (8081) is often taken by something else on a workstation.
 */
async function listenAs(
  app: FastifyInstance,
  host: string,
  port: number,
  key: keyof typeof FACES,
): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    const face = FACES[key];
    const option = SERVE_OPTIONS.find((o) => o.key === key)!;
    const flag = option.flag.split(' ')[0]!;
    const problem =
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is taken`
        : `port ${port} on ${host} may not be opened by this user`;
    throw new Error(
      `${problem}: it is ${face.what}; move it with ${flag} N (${option.env})` +
        (face.canBeOff ? ` or turn it off with ${flag} 0` : ''),
      { cause: error },
    );
  }
}

/** Starts one replica: engine (migrations included), reaper, HTTP. */
export async function startServer(config: Config, schema?: string): Promise<RunningServer> {
  checkExposure(config);
  const engine = await startEngine({
    url: config.db,
    ...(schema !== undefined ? { schema } : {}),
    ...(isPostgresUrl(config.db) ? {} : { synchronous: config.sqliteSync }),
    ...(config.replicaName ? { replicaName: config.replicaName } : {}),
    startReaper: true,
    startDeliverer: true,
    ...(config.smtpUrl
      ? { smtp: { url: config.smtpUrl, from: config.smtpFrom ?? 'drover@localhost' } }
      : {}),
    ...(config.webhookHosts ? { webhookHosts: config.webhookHosts } : {}),
    formats: JOB_DEFINITION_FORMATS,
    // PostgreSQL: uploads are staged here, on this replica, before they enter the database.
    stagingDir: join(config.dataDir, 'uploads'),
    settings: {
      uploadLimit: (config.maxUploadMb ?? 1000) * 1_000_000,
      leaseMs: config.leaseSeconds * 1000,
      nodeTimeoutMs: Math.max(config.leaseSeconds * 1500, 3000),
      reaperIntervalMs: Math.max(config.reaperSeconds * 1000, 100),
      notificationTimeoutMs: (config.notificationTimeoutSeconds ?? 10) * 1000,
    },
  });
  const archiveDir = config.archiveDir ?? join(config.dataDir, 'archives');
  const onComplete = startOnCompleteActions(engine.ctx, {
    archiveDir,
    archiveFileName,
    onError: (jobId, error) =>
      engine.backgroundError(
        `the on-complete action of job ${jobId} failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
  });
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
    await listenAs(app, config.host, config.port, 'port');
    if (config.deadlinePort) {
      deadline = await buildDeadlineApp({
        engine,
        auth: config.auth,
        archiveDir,
        logLevel: config.logLevel,
        version: VERSION,
      });
      await listenAs(deadline, config.host, config.deadlinePort, 'deadlinePort');
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
