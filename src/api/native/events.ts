import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import type { DroverEvent } from '../../engine/events/events.js';
import { stillSignedIn } from '../auth.js';
import { errorResponses } from './schemas.js';

/** The families a client may ask for: the part of the event type before the dot. */
export const EVENT_TOPICS = [
  'job',
  'task',
  'execution',
  'log',
  'node',
  'job-type',
  'audit',
  'notification',
] as const;

/** A comment line now and then keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/**
 * How often an open stream's token is read again: a token revoked or expired (or its user
 * removed) while the stream is open ends the stream within this time, on every replica.
 */
const RECHECK_MS = 5_000;

type Stamped = DroverEvent & { at: number };

function matches(event: Stamped, topics: Set<string>, jobId: number | undefined): boolean {
  const topic = event.type.slice(0, event.type.indexOf('.'));
  if (topics.size > 0 && !topics.has(topic)) return false;
  if (jobId === undefined) return true;
  return 'jobId' in event && event.jobId === jobId;
}

/**
 * Server-Sent Events: the bus's events, filtered to the topics (and job) a page shows.
 * Events carry ids and states only; the page reads what changed through the other routes.
 * A browser's EventSource cannot send an Authorization header, so the web UI reads this
 * stream with fetch(); any client that can send headers can do the same.
 */
export function eventRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const open = new Set<ServerResponse>();
  return async (app) => {
    // Streams never end on their own; without this, closing the server would wait for them.
    app.addHook('preClose', async () => {
      for (const stream of open) stream.end();
    });

    app.get(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'A stream of state changes (text/event-stream), filtered by topic and job',
          description:
            'Each message has `event: <type>` (job.state, task.state, log.appended, node.state, …) and `data: <JSON event>`. Lines starting with ":" are keep-alives.',
          querystring: Type.Object({
            topic: Type.Optional(
              Type.Array(Type.Union(EVENT_TOPICS.map((t) => Type.Literal(t))), {
                description: 'Event families to send; all when absent',
              }),
            ),
            job: Type.Optional(Type.Integer({ minimum: 1, description: 'Only this job' })),
          }),
          response: { 200: Type.String(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const topics = new Set<string>(request.query.topic ?? []);
        const jobId = request.query.job;
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx buffers responses unless told otherwise.
          'x-accel-buffering': 'no',
        });
        // A HEAD has no body, so Node sends nothing of the stream, not even the head: the
        // caller waited for ever (found by the fuzz). Its answer is the head alone.
        if (request.method === 'HEAD') {
          raw.end();
          return;
        }
        raw.write('retry: 2000\n: connected\n\n');
        open.add(raw);
        const unsubscribe = engine.ctx.bus.subscribe((event) => {
          if (!matches(event, topics, jobId)) return;
          raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        });
        const keepalive = setInterval(() => raw.write(': ping\n\n'), KEEPALIVE_MS);
        keepalive.unref();
        const recheck = setInterval(() => {
          stillSignedIn(engine, request).then(
            (yes) => yes || raw.end(),
            // A database hiccup is not a revocation; the next check decides.
            (error: unknown) => request.log.warn({ err: error }, 'event stream recheck failed'),
          );
        }, RECHECK_MS);
        recheck.unref();
        const stop = (): void => {
          clearInterval(keepalive);
          clearInterval(recheck);
          unsubscribe();
          open.delete(raw);
        };
        raw.once('close', stop);
        request.raw.once('close', stop);
      },
    );
  };
}
