import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { EngineOptions } from '../../src/engine/engine.js';
import { startTestEngine, type TestDatabase, type TestEngine } from './databases.js';

export interface TestServer extends TestEngine {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The application behind `url` (the fuzz reads the routes it registered). */
  app: FastifyInstance;
  /** fetch + JSON: returns status, parsed body (or text), and headers. */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // Tests read whatever shape the route answers; asserting on it is the test's job.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A real HTTP server on a random port over a fresh database. */
export async function startTestServer(
  database: TestDatabase,
  options: Partial<EngineOptions> & { auth?: boolean } = {},
): Promise<TestServer> {
  const { auth = false, ...engineOptions } = options;
  const t = await startTestEngine(database, engineOptions);
  const app = await buildApp({ engine: t.engine, auth });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    ...t,
    url,
    app,
    async request(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await app.close();
      await t.close();
    },
  };
}
