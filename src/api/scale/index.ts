import type { FastifyError, FastifyInstance, FastifyPluginAsync, RouteOptions } from 'fastify';
import { DroverError } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { PermissionConfig } from '../authorization/enforce.js';
import { asInputError } from '../input-guards.js';
import { keepOutOfNativeDocs } from '../native-docs.js';
import { legacyExecutionRoutes } from './legacy-executions.js';
import { legacyJobRoutes } from './legacy-jobs.js';
import { ScaleError } from './params.js';
import { scaleTokenAuth } from './token-auth.js';
import { v6CatalogRoutes } from './v6-catalog.js';
import { v6JobTypeRoutes } from './v6-job-types.js';
import { v6JobRoutes } from './v6-jobs.js';
import { v6LogRoutes } from './v6-logs.js';
import { v6QueueRoutes } from './v6-queue.js';

/*
 * The Scale dialect: v6 services at /v6 and /api/v6 (where Scale's UI and goscale expect
 * them behind a deployment prefix), the legacy job services at /jobs and /v5/jobs, and the
 * login at /api-token-auth/. Errors
 * are DRF's {"detail": …}; a GET without its trailing slash is redirected as Django does.
 */

const DRF_MESSAGES: Partial<Record<DroverError['code'], string>> = {
  NOT_FOUND: 'Not found.',
  UNAUTHENTICATED: 'Authentication credentials were not provided.',
  FORBIDDEN: 'You do not have permission to perform this action.',
};

function toScaleError(raw: unknown): { status: number; detail: string } {
  const error = asInputError(raw);
  if (error instanceof ScaleError) return { status: error.status, detail: error.detail };
  if (error instanceof DroverError) {
    // Conflicts are Scale's 400s: the request cannot be done in the job's state.
    const status = error.status === 409 ? 400 : error.status;
    return { status, detail: DRF_MESSAGES[error.code] ?? error.message };
  }
  const e = error as FastifyError;
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) {
    return { status: 400, detail: `JSON parse error - ${e.message}` };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, detail: e.message };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, detail: e.message };
  }
  return { status: 500, detail: 'A server error occurred.' };
}

function scaleScope(engine: Engine, register: (app: FastifyInstance) => Promise<void>) {
  const plugin: FastifyPluginAsync = async (app) => {
    // Scale's views parse JSON only; an empty body is an empty object, as with DRF.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, {});
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        (error as FastifyError).statusCode = 400;
        done(error as Error, undefined);
      }
    });
    app.setErrorHandler((error, request, reply) => {
      const { status, detail } = toScaleError(error);
      if (status >= 500) request.log.error({ err: error }, 'scale request failed');
      if (status === 406) return reply.status(406).type('text/plain').send(detail);
      return reply.status(status).send({ detail });
    });
    app.setNotFoundHandler((request, reply) => {
      const [path, query] = request.url.split('?');
      if (request.method === 'GET' && path && !path.endsWith('/')) {
        return reply.redirect(`${path}/${query !== undefined ? `?${query}` : ''}`, 301);
      }
      return reply.status(404).send({ detail: 'Not found.' });
    });
    const methods = collectRoutes(app);
    await register(app);
    answerOtherMethods(app, methods);
  };
  return plugin;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods of every route registered on `app` from now on, by URL below app's prefix. */
function collectRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route: RouteOptions) => {
    if ((route.config as PermissionConfig | undefined)?.methodNotAllowed) return;
    let url = route.url!.startsWith(app.prefix) ? route.url!.slice(app.prefix.length) : route.url!;
    // The prefix itself and its '/' are one route to Fastify (prefixTrailingSlash).
    if (url === '') url = '/';
    const set = byUrl.get(url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    byUrl.set(url, set);
  });
  return byUrl;
}

/*
 * Django REST framework answers a method a view does not have with 405, whatever the
 * path's parameters; only a path no view has is 404. Each path Scale serves gets the other
 * methods answering that, as routes of their own outside the permission table.
 */
function answerOtherMethods(app: FastifyInstance, byUrl: Map<string, Set<string>>): void {
  for (const [url, served] of byUrl) {
    const others = METHODS.filter((m) => !served.has(m));
    if (others.length === 0) continue;
    app.route({
      method: others,
      url,
      config: { methodNotAllowed: true } satisfies PermissionConfig,
      handler: async (request) => {
        throw new ScaleError(405, `Method "${request.method}" not allowed.`);
      },
    });
  }
}

export function scaleApi(engine: Engine): FastifyPluginAsync {
  const v6 = scaleScope(engine, async (app) => {
    await app.register(v6JobRoutes(engine));
    await app.register(v6LogRoutes(engine));
    await app.register(v6JobTypeRoutes(engine));
    await app.register(v6CatalogRoutes(engine));
    await app.register(v6QueueRoutes(engine));
  });
  const legacy = scaleScope(engine, async (app) => {
    await app.register(legacyJobRoutes(engine));
  });
  const legacyExecutions = scaleScope(engine, async (app) => {
    await app.register(legacyExecutionRoutes(engine));
    await app.register(v6LogRoutes(engine, ''));
  });
  return async (app) => {
    keepOutOfNativeDocs(app);
    await app.register(v6, { prefix: '/v6' });
    await app.register(v6, { prefix: '/api/v6' });
    await app.register(legacy, { prefix: '/jobs' });
    await app.register(legacy, { prefix: '/v5/jobs' });
    await app.register(legacyExecutions, { prefix: '/job-executions' });
    await app.register(legacyExecutions, { prefix: '/v5/job-executions' });
    await app.register(scaleTokenAuth(engine), { prefix: '/api-token-auth' });
  };
}
