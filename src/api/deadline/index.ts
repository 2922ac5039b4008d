import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { BODY_LIMIT } from '../app.js';
import { recordAuditTrail } from '../authorization/audit-hook.js';
import { enforcePermissions } from '../authorization/enforce.js';
import { closeConnectionsWhenQuiet } from '../idle-connections.js';
import { guardInput } from '../input-guards.js';
import { noteEarlyAnswers, parserRefusals } from '../parser-refusals.js';
import { logRequests, REQUEST_ID_LOG_LABEL, requestIdOptions } from '../request-log.js';
import { sharedCompilers } from '../schema-compilers.js';
import { basicAuthenticator } from './auth.js';
import type { DeadlineContext } from './context.js';
import { deadlineErrorOf } from './errors.js';
import { jobRoutes } from './job-routes.js';
import { reportRoutes } from './report-routes.js';
import { taskRoutes } from './task-routes.js';

/*
 * The Deadline 10 Web Service face: its own listener, like the real service (default port
 * 8081). Every route translates to the engine; nothing here keeps state.
 */

export interface DeadlineAppOptions {
  engine: Engine;
  /** Require HTTP Basic authentication (Drover users and passwords). */
  auth: boolean;
  archiveDir: string;
  logLevel?: string;
  version?: string;
}

export function banner(version = '0.1.0'): string {
  return `Deadline Web Service 10.3 [v10.3.0.0 Release (drover ${version})]`;
}

const TEXT = 'text/plain; charset=utf-8';

export async function buildDeadlineApp(options: DeadlineAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logLevel ? { level: options.logLevel } : false,
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: REQUEST_ID_LOG_LABEL,
    }),
    ...requestIdOptions,
    bodyLimit: BODY_LIMIT,
    schemaController: { compilersFactory: sharedCompilers },
    // Kestrel answers HEAD with 405; Fastify would otherwise answer it like GET.
    exposeHeadRoutes: false,
    clientErrorHandler: parserRefusals((_status, message) => ({
      type: TEXT,
      body: `Error: ${message}`,
    })),
  });
  noteEarlyAnswers(app);
  logRequests(app);
  closeConnectionsWhenQuiet(app);
  // JSON whatever the Content-Type says (the 10.0 client sends x-www-form-urlencoded).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const { status, text } = deadlineErrorOf(error);
    if (status >= 500 && !(error as { status?: unknown }).status) {
      request.log.error({ err: error }, 'deadline request failed');
    }
    void reply.status(status).type(TEXT).send(text);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const known = ['/', '/api/jobs', '/api/tasks', '/api/taskreports', '/api/jobreports'].includes(
      path,
    );
    void reply
      .status(known ? 405 : 404)
      .header(known ? 'Allow' : 'X-Drover', known ? 'DELETE, GET, OPTIONS, POST, PUT' : 'deadline')
      .type(TEXT)
      .send(known ? '' : `Error: no such resource ${path}; this is the Deadline Web Service.`);
  });
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', basicAuthenticator(options.engine, options.auth));
  enforcePermissions(app, options.engine, 'deadline');
  recordAuditTrail(app, options.engine, 'deadline');
  guardInput(app);

  const dc: DeadlineContext = { engine: options.engine, archiveDir: options.archiveDir };
  app.get('/', async (_request, reply) => reply.type(TEXT).send(banner(options.version)));
  await app.register(jobRoutes(dc));
  await app.register(taskRoutes(dc));
  await app.register(reportRoutes(dc));
  return app;
}
