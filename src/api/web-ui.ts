import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/*
 * The web UI: the static files Vite builds into web/dist, served at /. The UI routes by
 * the URL's hash (/#/jobs/12), so its pages never collide with a dialect's paths; a path
 * that names no file still answers index.html to a browser (SPA fallback), except under
 * the prefixes of the APIs, which keep their JSON 404.
 */

/** From src/api/ (tsx) and dist/api/ (built) alike, the repository root is two levels up. */
export const DEFAULT_WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Paths that belong to an API or the docs; a miss there is an API 404, never the UI. */
const API_PREFIXES = ['/api', '/docs', '/metrics', '/v1', '/v5', '/v6', '/jobs'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Drover</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>Drover</h1><p>The web UI is not built. Run <code>npm run build</code> in the Drover
checkout and reload this page.</p><p>The API is up: <a href="/docs">/docs</a>.</p></body>`;

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send({
    error: 'NOT_FOUND',
    message: `no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
  });
}

/**
 * Serves the UI on `app` itself (not in a child context), so that its fallback can answer
 * requests that no route took. Call it last, after every API is registered.
 */
export async function registerWebUi(
  app: FastifyInstance,
  root: string = DEFAULT_WEB_ROOT,
): Promise<void> {
  const base = resolve(root);
  const index = join(base, 'index.html');
  const built = (): boolean => existsSync(index);

  const sendFile = async (reply: FastifyReply, file: string): Promise<FastifyReply> => {
    const body = await readFile(file);
    const hashed = file.startsWith(join(base, 'assets') + sep);
    return reply
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  };

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    built() ? sendFile(reply, index) : reply.type(TYPES['.html']!).send(NOT_BUILT),
  );

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    const file = resolve(base, 'assets', rest);
    // resolve() removed any '..'; a path that left the folder is not ours to serve.
    const inside = file.startsWith(join(base, 'assets') + sep);
    const info = inside ? await stat(file).catch(() => undefined) : undefined;
    return info?.isFile() ? sendFile(reply, file) : notFound(request, reply);
  });

  // SPA fallback: a browser asking for a page at a path no route took gets the UI, which
  // shows its own "not found"; API paths and files keep the API's 404 (and each dialect's).
  // A hook with a callback, not async: every request of every face runs it, and an async
  // hook costs a promise and a turn of the microtask queue. Answered here, the request goes
  // no further (done is not called).
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return done();
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path) || extname(path) !== '' || !built()) return done();
    if (!(request.headers.accept ?? '').includes('text/html')) return done();
    sendFile(reply, index).catch((error: unknown) => done(error as Error));
  });
}
