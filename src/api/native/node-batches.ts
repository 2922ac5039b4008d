import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import { MAX_CLAIM } from '../../engine/dispatch/claim-walk.js';
import type { Engine } from '../../engine/engine.js';
import { finishExecutions, MAX_FINISHES } from '../../engine/executions/execution-batches.js';
import { machineTraffic } from '../request-log.js';
import { abortedOnFailure, hangUpSignal } from '../wait-signal.js';
import { ClaimAnswer, claimAnswerWriter, FinishResults, type Serialize } from './claim-answers.js';
import { FinishFields, finishReport, Prefer } from './node-protocol-schemas.js';
import { errorResponses, IdParams } from './schemas.js';
import { claimOrdersJson } from './work-orders.js';

const NO_RULES = new Map<string, never[]>();

/*
 * The batched node protocol: a node with free slots takes several tasks in one call, and
 * reports several finishes in one call. Each call is one transaction, so a batch of ten
 * costs one commit where the single-task protocol (acquire → start → finish) costs thirty.
 * A claim may carry the finishes of the node's last batch (report and take more in one
 * call, as Deadline Cloud's UpdateWorkerSchedule does): a node that drains a queue of short
 * tasks then makes one call per batch instead of two.
 */

const FinishItem = Type.Intersect([
  Type.Object({ executionId: Type.Integer({ minimum: 1, maximum: MAX_ID }) }),
  FinishFields,
]);

export function nodeBatchRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx, settings, dispatcher } = engine;
  const reportFinishes = (nodeId: number, finishes: readonly Static<typeof FinishItem>[]) =>
    finishExecutions(
      ctx,
      settings,
      nodeId,
      finishes.map((f) => finishReport(f.executionId, f)),
    );
  let writeAnswer: ((answer: ClaimAnswer) => string) | undefined;
  return async (app) => {
    machineTraffic(app);
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
              prefer: Type.Optional(Prefer),
              jobsOnce: Type.Optional(
                Type.Boolean({
                  default: false,
                  description:
                    'Each job (with its jobType and pathMappingRules) is written in its first order only; later orders of it carry execution and task alone',
                }),
              ),
              finishes: Type.Optional(
                Type.Array(FinishItem, {
                  maxItems: MAX_FINISHES,
                  description:
                    'Ended commands to report first, as POST /nodes/{id}/finishes does; their slots count as free for this claim',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: ClaimAnswer,
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        // Before any wait: the node counts its leases from its sending of the claim, and
        // this is later. Counted from the answer instead, they ended for the node later
        // than for the server, by the commit and the way back (0.7 s under load).
        const received = ctx.clock();
        const nodeId = request.params.id;
        const { finishes } = request.body;
        // The finishes and the claim go to the write lane in the same turn, the finishes
        // first: they share a transaction, in which finishes are written before claims
        // (write-lane.ts), so the slots they free are the claim's, and the call waits for
        // one commit instead of two (the finishes then the claim, each a turn of the lane).
        // Should that transaction fail, each item is written again alone, the finishes first
        // (GroupCommit): a claim that fails leaves the finishes recorded (reported again,
        // each answers 409). Should the finishes fail, the claim gives back what it took
        // (the aborted signal) and the call fails with their error.
        const finishing =
          finishes && finishes.length > 0 ? reportFinishes(nodeId, finishes) : undefined;
        const hangUp = hangUpSignal(reply);
        const signal = finishing ? abortedOnFailure(hangUp, finishing) : hangUp;
        const taken = await dispatcher.claim(
          nodeId,
          {
            max: request.body.max ?? 1,
            start: request.body.start ?? false,
            ...(request.body.prefer?.length ? { prefer: request.body.prefer } : {}),
          },
          (request.body.wait ?? 0) * 1000,
          signal,
        );
        const results = finishing && (await finishing);
        const rules =
          taken.length > 0
            ? await engine.pathMappings.rulesOf(taken.map((a) => a.job.pool))
            : NO_RULES;
        const orders = claimOrdersJson(taken, rules, request.body.jobsOnce ?? false);
        const answer: ClaimAnswer = { orders, ...(results ? { results } : {}) };
        if (taken.length > 0) {
          const ends = Math.min(...taken.map((a) => a.execution.lease_expires_at));
          answer.leaseMs = settings.leaseMs;
          answer.waitedMs = Math.max(0, ends - settings.leaseMs - received);
        }
        writeAnswer ??= claimAnswerWriter(
          (schema) => reply.compileSerializationSchema(schema) as Serialize,
        );
        return reply.type('application/json; charset=utf-8').serializer(writeAnswer).send(answer);
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
            200: Type.Object({ results: FinishResults }),
            ...errorResponses,
          },
        },
      },
      async (request) => ({
        results: await reportFinishes(request.params.id, request.body.finishes),
      }),
    );
  };
}
