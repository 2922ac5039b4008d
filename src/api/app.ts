import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { ANONYMOUS_AREAS, type AnonymousArea } from '../config.js';
import type { Engine } from '../engine/engine.js';
import { authenticator } from './auth.js';
import { recordAuditTrail } from './authorization/audit-hook.js';
import { closeRefusedUpgrades, enforcePermissions } from './authorization/enforce.js';
import { registerErrorHandler } from './error-handler.js';
import { HttpMetrics } from './http-metrics.js';
import { closeConnectionsWhenQuiet } from './idle-connections.js';
import { guardInput } from './input-guards.js';
import { nativeApi } from './native/index.js';
import { metricsRoute } from './native/metrics.js';
import { noteEarlyAnswers, parserRefusals } from './parser-refusals.js';
import { logRequests, REQUEST_ID_LOG_LABEL, requestIdOptions } from './request-log.js';
import { scaleApi } from './scale/index.js';
import { sharedCompilers } from './schema-compilers.js';
import { ufdlApi } from './ufdl/index.js';
import { registerWebUi } from './web-ui.js';

export interface AppOptions {
  engine: Engine;
  auth: boolean;
  /** With auth on, what callers without credentials may see (default: all of it). */
  anonymous?: readonly AnonymousArea[];
  logLevel?: string;
  /** Where log lines go (stdout by default); tests read them. */
  logStream?: { write(line: string): void };
  version?: string;
  /** Where the built web UI is (web/dist by default). */
  webRoot?: string;
}

export const BODY_LIMIT = 16 * 1024 * 1024;

/** Builds the HTTP application apart from listen(), so tests can run it on any port. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logLevel
      ? { level: options.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) }
      : false,
    // Fastify's own two lines per request are replaced by request-log.ts's one.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: REQUEST_ID_LOG_LABEL,
    }),
    ...requestIdOptions,
    bodyLimit: BODY_LIMIT,
    // Refused before routing, so no face is known: the native shape, with the `detail`
    // that Scale's and UFDL's clients read.
    clientErrorHandler: parserRefusals((status, message) => ({
      type: 'application/json; charset=utf-8',
      body: JSON.stringify({
        error: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION',
        message,
        detail: message,
      }),
    })),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    schemaController: { compilersFactory: sharedCompilers },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerErrorHandler(app);
  logRequests(app);
  noteEarlyAnswers(app);
  guardInput(app);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', closeRefusedUpgrades);
  closeConnectionsWhenQuiet(app);
  app.addHook('onRequest', authenticator(options.engine, options.auth));
  enforcePermissions(app, options.engine, 'drover', options.anonymous ?? ANONYMOUS_AREAS);
  recordAuditTrail(app, options.engine, 'drover');
  const http = new HttpMetrics();
  http.watch(app);

  await app.register(swagger, {
    // Components named by their schema's $id (Job, Task, …) rather than def-0, def-1: the
    // generated client's types (src/client/openapi-types.ts) are read by those names.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    openapi: {
      info: {
        title: 'Drover native API',
        version: options.version ?? '0.1.0',
        description: 'Jobs, tasks, executions, logs, nodes and job types of a Drover server.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: options.auth ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(nativeApi(options.engine), { prefix: '/api/v1' });
  await app.register(metricsRoute(options.engine, http));
  await app.register(scaleApi(options.engine));
  await app.register(ufdlApi(options.engine, options.auth), { prefix: '/v1' });
  // Last: the UI's fallback only answers what no API route took.
  await registerWebUi(app, options.webRoot);
  return app;
}
