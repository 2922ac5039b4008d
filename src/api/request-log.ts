import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/*
 * Every request gets an id: the one a proxy in front sent in X-Request-Id (so a load
 * balancer's log and ours name the same request), else a new UUID. The id is answered in
 * X-Request-Id, carried by every log line of the request (`requestId`), and put in the
 * native API's error bodies, so a user's bug report leads to the server's line.
 */

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller's id may be: a proxy's token, never text that could forge a log line. */
const CALLER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Fastify's constructor option that names requests (the log label is logController's). */
export const REQUEST_ID_LOG_LABEL = 'requestId';
export const requestIdOptions = {
  genReqId: (raw: IncomingMessage): string => {
    const sent = raw.headers[REQUEST_ID_HEADER];
    return typeof sent === 'string' && CALLER_ID.test(sent) ? sent : randomUUID();
  },
};

/**
 * Marks the routes a plugin registers as machine traffic: the node protocol, a worker's
 * claims, heartbeats and finishes, thousands a second on a busy farm. Their lines are
 * logged at `debug`, so `info` shows what people and scripts asked.
 */
export function machineTraffic(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object | undefined), machineTraffic: true } as never;
  });
}

/**
 * Answers the id in a header and logs one structured line per answered request: method,
 * route template, path (never the query string, which may carry a token), status and time;
 * at `debug` for machine traffic (above).
 */
export function logRequests(app: FastifyInstance): void {
  // Hooks with a callback, not async: every request runs them (see input-guards.ts).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Fastify builds `routeOptions` anew at each read.
    const route = request.routeOptions;
    const config = route.config as { machineTraffic?: boolean } | undefined;
    const level = config?.machineTraffic ? 'debug' : 'info';
    // A disabled level's method is a no-op, but the line's fields would still be built.
    if (level === 'info' || ['debug', 'trace'].includes(request.log.level)) {
      request.log[level](
        {
          method: request.method,
          route: route.url ?? null,
          path: request.url.split('?')[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
    }
    done();
  });
}
