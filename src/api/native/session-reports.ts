import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import {
  appendSessionLog,
  endSession,
  openSession,
  reportActions,
} from '../../engine/sessions/session-reports.js';
import { machineTraffic } from '../request-log.js';
import { errorResponses, IdParams, logBatchFields } from './schemas.js';
import {
  ActionsBody,
  EndSessionBody,
  OpenSessionBody,
  Session,
  sessionJson,
} from './session-schemas.js';

/*
 * The worker's reports of its OpenJD sessions (docs/openjd.md#session-records), beside the
 * node protocol's reports of executions: only the node that opened a session writes to it
 * (the permission table checks the caller speaks for it, the engine that the body's node is
 * the session's).
 */

const time = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));

export function sessionReportRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    machineTraffic(app);
    app.post(
      '/sessions',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Open an OpenJD session of a job the node runs tasks of',
          body: OpenSessionBody,
          response: { 200: Session, ...errorResponses },
        },
      },
      async (request) => {
        const { nodeId, jobId, clientToken } = request.body;
        const row = await openSession(ctx, nodeId, jobId, clientToken);
        return sessionJson({ ...row, node_name: null, steps: [] });
      },
    );

    app.post(
      '/sessions/:id/actions',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'Report session actions (envEnter, taskRun, envExit) as they start and end',
          params: IdParams,
          body: ActionsBody,
          response: {
            200: Type.Object({ actionCount: Type.Integer() }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        reportActions(
          ctx,
          request.params.id,
          request.body.nodeId,
          request.body.actions.map((a) => {
            const { startedAt, endedAt, ...rest } = a;
            const started = time(startedAt);
            const ended = time(endedAt);
            return {
              ...rest,
              ...(started !== undefined ? { startedAt: started } : {}),
              ...(ended !== undefined ? { endedAt: ended } : {}),
            };
          }),
        ),
    );

    app.post(
      '/sessions/:id/log',
      {
        schema: {
          tags: ['logs'],
          summary: "Append a batch of lines to a session's log, in order",
          params: IdParams,
          body: Type.Object(
            {
              nodeId: Type.Integer({ minimum: 1 }),
              ...logBatchFields('stdout', 'stderr', 'worker'),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ firstLine: Type.Integer(), count: Type.Integer() }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        appendSessionLog(
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

    app.post(
      '/sessions/:id/end',
      {
        schema: {
          tags: ['node protocol'],
          summary: 'The session has ended: its environments are exited',
          params: IdParams,
          body: EndSessionBody,
          response: { 200: Session, ...errorResponses },
        },
      },
      async (request) => {
        const row = await endSession(
          ctx,
          request.params.id,
          request.body.nodeId,
          request.body.reason,
        );
        return sessionJson({ ...row, node_name: null, steps: [] });
      },
    );
  };
}
