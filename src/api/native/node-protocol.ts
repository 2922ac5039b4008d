import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { finishExecution } from '../../engine/executions/execution-batches.js';
import { appendLog } from '../../engine/executions/execution-logs.js';
import {
  abortExecution,
  executionHeartbeat,
  releaseExecution,
  startExecution,
} from '../../engine/executions/execution-reports.js';
import { MAX_STATUS_MESSAGE, reportProgress } from '../../engine/executions/progress-reports.js';
import { nodeHeartbeat, registerNode } from '../../engine/nodes/node-registry.js';
import { getExecution, getNodeWithWork } from '../../engine/queries.js';
import { machineTraffic } from '../request-log.js';
import { hangUpSignal } from '../wait-signal.js';
import { Execution } from './execution-schemas.js';
import { FinishFields, finishReport, NodeRef, Prefer } from './node-protocol-schemas.js';
import { HostCapabilities, Node } from './node-schemas.js';
import { executionJson, nodeJson } from './representations.js';
import { errorResponses, IdParams, logBatchFields } from './schemas.js';
import { TelemetryReport } from './telemetry-schemas.js';
import { WorkOrder, workOrderJson } from './work-orders.js';

/*
 * The worker's side of the API. Every report names the execution (the fencing token) and
 * the node; a report the lease no longer covers gets 409 and changes nothing.
 */

const Registration = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    hostname: Type.Optional(Type.String()),
    pools: Type.Optional(Type.Array(Type.String())),
    groups: Type.Optional(Type.Array(Type.String())),
    cpus: Type.Optional(Type.Number({ minimum: 0 })),
    mem: Type.Optional(Type.Number({ minimum: 0, description: 'MiB' })),
    disk: Type.Optional(Type.Number({ minimum: 0, description: 'MiB' })),
    gpus: Type.Optional(Type.Number({ minimum: 0 })),
    slots: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    capabilities: Type.Optional(
      Type.Partial(HostCapabilities, {
        description:
          'OpenJD attributes and amounts the node has (docs/openjd.md#host-requirements); an older worker sends none',
      }),
    ),
  },
  { additionalProperties: false },
);

const Finish = Type.Intersect([NodeRef, FinishFields]);

export function nodeProtocolRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx, settings, dispatcher } = engine;
  const ok = { 200: Type.Object({ ok: Type.Boolean() }), ...errorResponses };
  return async (app) => {
    machineTraffic(app);
    app.post(
      '/nodes',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Register a node (again, after a restart: same name, same id)',
          body: Registration,
          response: { 200: Node, ...errorResponses },
        },
      },
      async (request) => {
        const node = await registerNode(ctx, request.body, request.principal);
        const { executions } = await getNodeWithWork(ctx, node.id);
        return nodeJson(node, executions);
      },
    );

    app.post(
      '/nodes/:id/heartbeat',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'The node is alive; extends the leases of the executions it lists',
          params: IdParams,
          body: Type.Object({
            executions: Type.Optional(
              Type.Array(Type.Integer({ minimum: 1, maximum: MAX_ID }), { maxItems: 1024 }),
            ),
            telemetry: Type.Optional(TelemetryReport),
          }),
          response: {
            200: Type.Object({
              stop: Type.Array(Type.Integer(), {
                description: 'Executions to kill: withdrawn or lost',
              }),
              leaseMs: Type.Integer({
                description:
                  'How long the leases this heartbeat renewed last, from when it was sent: a ' +
                  'node that has not renewed a lease within it must stop that task, which the ' +
                  'server may already have given to another node',
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => ({
        ...(await nodeHeartbeat(
          ctx,
          settings,
          request.params.id,
          request.body.executions ?? [],
          request.body.telemetry,
        )),
        leaseMs: settings.leaseMs,
      }),
    );

    app.post(
      '/nodes/:id/acquire',
      {
        schema: {
          tags: ['node protocol'],
          summary:
            'Take the best task for this node; waits up to `wait` seconds for one (long-poll)',
          params: IdParams,
          querystring: Type.Object({
            wait: Type.Optional(Type.Number({ minimum: 0, maximum: 60, default: 0 })),
            prefer: Type.Optional(Prefer),
          }),
          response: { 200: WorkOrder, 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const signal = hangUpSignal(reply);
        const prefer = request.query.prefer;
        const acquired = prefer?.length
          ? (
              await dispatcher.claim(
                request.params.id,
                { max: 1, prefer },
                (request.query.wait ?? 0) * 1000,
                signal,
              )
            )[0]
          : await dispatcher.acquire(request.params.id, (request.query.wait ?? 0) * 1000, signal);
        if (!acquired) return reply.status(204).send(null);
        return workOrderJson(acquired, await engine.pathMappings.rulesOf([acquired.job.pool]));
      },
    );

    app.post(
      '/executions/:id/start',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'The command started',
          params: IdParams,
          body: NodeRef,
          response: ok,
        },
      },
      async (request) => {
        await startExecution(ctx, settings, request.params.id, request.body.nodeId);
        return { ok: true };
      },
    );

    app.post(
      '/executions/:id/progress',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Progress in percent, a status message, or both; extends the lease',
          params: IdParams,
          body: Type.Intersect([
            NodeRef,
            Type.Object({
              progress: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
              status: Type.Optional(
                Type.String({
                  maxLength: MAX_STATUS_MESSAGE,
                  description:
                    "What the command says it is doing (OpenJD's openjd_status); the execution's and its task's statusMessage",
                }),
              ),
            }),
          ]),
          response: ok,
        },
      },
      async (request) => {
        await reportProgress(
          ctx,
          settings,
          request.params.id,
          request.body.nodeId,
          request.body.progress,
          undefined,
          request.body.status,
        );
        return { ok: true };
      },
    );

    app.post(
      '/executions/:id/heartbeat',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Extend the lease',
          params: IdParams,
          body: NodeRef,
          response: ok,
        },
      },
      async (request) => {
        await executionHeartbeat(ctx, settings, request.params.id, request.body.nodeId);
        return { ok: true };
      },
    );

    app.post(
      '/executions/:id/finish',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'The command ended: success, or a failure with its exit code and error',
          params: IdParams,
          body: Finish,
          response: { 200: Execution, ...errorResponses },
        },
      },
      async (request) => {
        const { nodeId, ...fields } = request.body;
        const written = await finishExecution(
          ctx,
          settings,
          nodeId,
          finishReport(request.params.id, fields),
        );
        return executionJson(written ?? (await getExecution(ctx, request.params.id)));
      },
    );

    app.post(
      '/executions/:id/release',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Give back an acquired task that was not started (no try counted)',
          params: IdParams,
          body: NodeRef,
          response: ok,
        },
      },
      async (request) => {
        await releaseExecution(ctx, request.params.id, request.body.nodeId);
        return { ok: true };
      },
    );

    app.post(
      '/executions/:id/abort',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Abandon a live execution; its task is queued again (no try counted)',
          params: IdParams,
          body: NodeRef,
          response: ok,
        },
      },
      async (request) => {
        await abortExecution(ctx, request.params.id, request.body.nodeId);
        return { ok: true };
      },
    );

    app.post(
      '/executions/:id/logs',
      {
        schema: {
          tags: ['logs'],
          summary: 'Append a batch of log lines, in order',
          params: IdParams,
          body: Type.Intersect([
            NodeRef,
            // `system` is what workers before the `worker` stream send.
            Type.Object(logBatchFields('stdout', 'stderr', 'worker', 'system')),
          ]),
          response: {
            200: Type.Object({ firstLine: Type.Integer(), count: Type.Integer() }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        appendLog(
          ctx,
          request.params.id,
          request.body.nodeId,
          request.body.lines.map((l) => ({
            stream: l.stream,
            text: l.text,
            ...(l.time ? { time: Date.parse(l.time) } : {}),
          })),
          request.body.firstLine,
        ),
    );
  };
}
