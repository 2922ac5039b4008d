import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { assertActsAsNode } from '../../engine/accounts/permissions.js';
import type { Engine } from '../../engine/engine.js';
import { nodeHeartbeat } from '../../engine/nodes/node-registry.js';
import { liveExecutionsOfNode } from '../../store/executions.js';
import { findNode } from '../../store/nodes.js';
import { keepOutOfNativeDocs } from '../native-docs.js';
import { authRoutes, tokenKeys, ufdlAuthenticator } from './auth.js';
import type { UfdlFace } from './context.js';
import { badNodeId, ufdlErrorOf } from './errors.js';
import { jobOutputRoutes } from './job-outputs.js';
import { jobSocket, socketGate } from './job-socket.js';
import { jobTemplateActionRoutes } from './job-template-actions.js';
import { jobTemplateRoutes } from './job-templates.js';
import { jobTypeAndContractRoutes } from './job-types-contracts.js';
import { JOB, jobRoutes } from './jobs.js';
import { nodeProtocolRoutes } from './node-protocol.js';
import { nodeRoutes } from './nodes.js';
import { outputRoutes } from './outputs.js';
import { RouteTable } from './routing.js';
import { JOB_TEMPLATES, WORKABLE_TEMPLATES } from './template-json.js';
import { typeValueRoutes } from './type-values.js';

/*
 * UFDL's job-server dialect, mounted at /v1 (README.md in this folder lists where it
 * deliberately differs from UFDL). Errors are DRF's `{"detail": …}`; the caller is the
 * Bearer token's user; the node is the `Node-Id` header, and naming a node marks it seen
 * (a heartbeat that extends the leases of the work it holds).
 */

/** How long a WebSocket peer has to answer the close frame when the server stops. */
const WS_CLOSE_GRACE_MS = 1000;

async function resolveNodeId(face: UfdlFace, request: FastifyRequest): Promise<void> {
  request.ufdlNodeId = undefined;
  const header = request.headers['node-id'];
  if (header === undefined) return;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!/^\s*[-+]?\d+\s*$/.test(value)) {
    throw badNodeId(value, 'Unable to parse into an integer primary-key');
  }
  const id = Number(value);
  const node = Number.isSafeInteger(id) ? await findNode(face.engine.ctx.db, id) : undefined;
  if (!node) throw badNodeId(value, 'No node with this primary-key');
  // Naming a node is speaking for it: only the account it is bound to (or an admin) may.
  await assertActsAsNode(face.engine.ctx, request.principal, id);
  const live = await liveExecutionsOfNode(face.engine.ctx.db, id);
  await nodeHeartbeat(
    face.engine.ctx,
    face.engine.settings,
    id,
    live.map((e) => e.id),
  );
  request.ufdlNodeId = id;
}

export function ufdlApi(engine: Engine, auth: boolean): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    keepOutOfNativeDocs(app);
    const face: UfdlFace = { engine, auth };
    const key = tokenKeys(engine);
    const authenticate = ufdlAuthenticator(engine, auth, key);
    app.decorateRequest('ufdlNodeId', undefined);
    app.setErrorHandler((error, request, reply) => {
      const { status, body, headers } = ufdlErrorOf(error, request);
      if (status >= 500) request.log.error({ err: error }, 'UFDL request failed');
      void reply.status(status).headers(headers).send(body);
    });
    app.setNotFoundHandler((_request, reply) => {
      void reply.status(404).send({ detail: 'Not found.' });
    });
    // DRF reads an empty body as no data; the Python client sends none to list everything.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        (error as { statusCode?: number }).statusCode = 400;
        done(error as Error, undefined);
      }
    });
    app.addHook('onRequest', async (request) => {
      // The token views authenticate nobody (simplejwt); a stale header must not block a login.
      if (request.url.startsWith('/v1/auth/')) return;
      await authenticate(request);
      await resolveNodeId(face, request);
    });
    await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
    // The plugin's own preClose sends each socket a close frame; a peer that never answers
    // it would hold the server's close() for ws's 30 s closing handshake.
    app.addHook('preClose', (done) => {
      const clients = app.websocketServer.clients;
      setTimeout(() => {
        for (const client of clients) client.terminate();
      }, WS_CLOSE_GRACE_MS).unref();
      done();
    });

    await app.register(authRoutes(engine, key));
    const routes = new RouteTable();
    jobRoutes(face, routes);
    nodeProtocolRoutes(face, routes);
    nodeRoutes(face, routes);
    for (const scope of [JOB_TEMPLATES, WORKABLE_TEMPLATES]) {
      jobTemplateRoutes(face, routes, scope);
      jobTemplateActionRoutes(face, routes, scope);
    }
    jobOutputRoutes(face, routes);
    jobTypeAndContractRoutes(face, routes);
    typeValueRoutes(face, routes);
    // The job's WebSocket shares its URL with retrieve (GET without an upgrade).
    routes.attachSocket(JOB, jobSocket(face), socketGate(face));
    routes.register(app);
    await app.register(async (scope) => outputRoutes(scope, face));
  };
}
