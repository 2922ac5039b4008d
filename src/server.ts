import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import { checkExposure, type Config } from './config.js';
import { startEngine, type Engine } from './engine/engine.js';
import { isPostgresUrl } from './store/database.js';

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  /** http://host:port of the native API. */
  url: string;
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
    settings: {
      leaseMs: config.leaseSeconds * 1000,
      nodeTimeoutMs: Math.max(config.leaseSeconds * 1500, 3000),
      reaperIntervalMs: Math.max(config.reaperSeconds * 1000, 100),
    },
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      engine,
      auth: config.auth,
      logLevel: config.logLevel,
      version: VERSION,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app?.close();
    await engine.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    engine,
    url: `http://${host}:${port}`,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
