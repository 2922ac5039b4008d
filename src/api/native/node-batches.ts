import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import { MAX_CLAIM } from '../../engine/dispatcher.js';
import type { Engine } from '../../engine/engine.js';
import { finishExecutions, MAX_FINISHES } from '../../engine/execution-batches.js';
import { waitSignal } from '../wait-signal.js';
import { FinishFields, finishReport } from './node-protocol-schemas.js';
import { errorResponses, IdParams } from './schemas.js';
import { WorkOrder, workOrderJson } from './work-orders.js';

/*
 * The batched node protocol: a node with free slots takes several tasks in one call, and
 * reports several finishes in one call. Each call is one transaction, so a batch of ten
 * costs one commit where the single-task protocol (acquire → start → finish) costs thirty.
 */

const FinishItem = Type.Intersect([
  Type.Object({ executionId: Type.Integer({ minimum: 1, maximum: MAX_ID }) }),
  FinishFields,
]);

export function nodeBatchRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx, settings, dispatcher } = engine;
  return async (app) => {
    app.post(
      '/nodes/:id/claims',
      {
        schema: {
          tags: ['node protocol'],
          summary:
            'Take up to `max` tasks (at most the free slots); waits up to `wait` seconds for the first (long-poll)',
          params: IdParams,
          body: Type.Object(
            {
              max: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CLAIM, default: 1 })),
              wait: Type.Optional(Type.Number({ minimum: 0, maximum: 60, default: 0 })),
              start: Type.Optional(
                Type.Boolean({
                  default: false,
                  description: 'The executions are RUNNING at once: no start call is needed',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              orders: Type.Array(WorkOrder),
              leaseMs: Type.Optional(
                Type.Integer({ description: 'With orders: how long a lease lasts' }),
              ),
              waitedMs: Type.Optional(
                Type.Integer({
                  description:
                    'With orders: how long after this claim arrived their leases began (its ' +
                    'long-poll wait). A node that has not renewed a lease within waitedMs + ' +
                    'leaseMs of sending the claim must stop that task.',
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        // Before any wait: the node counts its leases from its sending of the claim, and
        // this is later. Counted from the answer instead, they ended for the node later
        // than for the server, by the commit and the way back (0.7 s under load).
        const received = ctx.clock();
        const signal = waitSignal(reply, engine.stopping);
        const taken = await dispatcher.claim(
          request.params.id,
          { max: request.body.max ?? 1, start: request.body.start ?? false },
          (request.body.wait ?? 0) * 1000,
          signal,
        );
        const orders = taken.map(workOrderJson);
        if (taken.length === 0) return { orders };
        const ends = Math.min(...taken.map((a) => a.execution.lease_expires_at));
        return {
          orders,
          leaseMs: settings.leaseMs,
          waitedMs: Math.max(0, ends - settings.leaseMs - received),
        };
      },
    );

    app.post(
      '/nodes/:id/finishes',
      {
        schema: {
          tags: ['node protocol'],
          summary:
            'Report several ended commands at once; each report is answered on its own (409: the lease is gone)',
          params: IdParams,
          body: Type.Object(
            { finishes: Type.Array(FinishItem, { minItems: 1, maxItems: MAX_FINISHES }) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              results: Type.Array(
                Type.Object({
                  executionId: Type.Integer(),
                  status: Type.Integer({
                    description: '200, or the status a lone finish would get',
                  }),
                  code: Type.Optional(Type.String()),
                  message: Type.Optional(Type.String()),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const results = await finishExecutions(
          ctx,
          settings,
          request.params.id,
          request.body.finishes.map((f) => finishReport(f.executionId, f)),
        );
        return { results };
      },
    );
  };
}
