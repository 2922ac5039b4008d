import type { FastifyError, FastifyInstance, FastifyPluginAsync } from 'fastify';
import { DroverError } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import { asInputError } from '../input-guards.js';
import { legacyJobRoutes } from './legacy-jobs.js';
import { ScaleError } from './params.js';
import { scaleTokenAuth } from './token-auth.js';
import { v6CatalogRoutes } from './v6-catalog.js';
import { v6JobTypeRoutes } from './v6-job-types.js';
import { v6JobRoutes } from './v6-jobs.js';
import { v6LogRoutes } from './v6-logs.js';

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
    await register(app);
  };
  return plugin;
}

export function scaleApi(engine: Engine): FastifyPluginAsync {
  const v6 = scaleScope(engine, async (app) => {
    await app.register(v6JobRoutes(engine));
    await app.register(v6LogRoutes(engine));
    await app.register(v6JobTypeRoutes(engine));
    await app.register(v6CatalogRoutes(engine));
  });
  const legacy = scaleScope(engine, async (app) => {
    await app.register(legacyJobRoutes(engine));
  });
  return async (app) => {
    await app.register(v6, { prefix: '/v6' });
    await app.register(v6, { prefix: '/api/v6' });
    await app.register(legacy, { prefix: '/jobs' });
    await app.register(legacy, { prefix: '/v5/jobs' });
    await app.register(scaleTokenAuth(engine), { prefix: '/api-token-auth' });
  };
}
