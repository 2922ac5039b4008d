import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  MAX_QUEUE_WAIT_S,
  MAX_RULE_NAME_LENGTH,
  MAX_TARGET_LENGTH,
  MAX_TASK_FAILURES,
  NOTIFICATION_CHANNELS,
  NOTIFICATION_EVENTS,
} from '../../domain/notifications.js';
import type { Engine } from '../../engine/engine.js';
import {
  createNotificationRule,
  deliveriesOfRule,
  deleteNotificationRuleOf,
  notificationRule,
  notificationRulesOf,
  updateNotificationRuleOf,
  type NotificationRule,
} from '../../engine/notifications/notification-rules.js';
import { beforePage, pageOfList } from './page-links.js';
import { iso } from './representations.js';
import {
  beforePaging,
  beforeQuery,
  errorResponses,
  IdParams,
  Nullable,
  pageOf,
  pageQuery,
  StringEnum,
  Time,
} from './schemas.js';

/*
 * Notification rules (docs/notifications.md): a user manages the rules on their own jobs,
 * an admin the global ones and anyone's. The engine checks whose rule it is.
 */

const Name = Type.String({ minLength: 1, maxLength: MAX_RULE_NAME_LENGTH });
const Events = Type.Array(StringEnum(NOTIFICATION_EVENTS), {
  minItems: 1,
  maxItems: NOTIFICATION_EVENTS.length,
  description: `Events that fire the rule: ${NOTIFICATION_EVENTS.join(', ')} (node.lost, node.quarantined: global rules only)`,
});
const TaskFailures = Type.Integer({
  minimum: 1,
  maximum: MAX_TASK_FAILURES,
  description: 'task.failed: fire when a task has failed this many times',
});
const QueueWaitSeconds = Type.Integer({
  minimum: 1,
  maximum: MAX_QUEUE_WAIT_S,
  description: 'job.queue-wait: fire when a job has waited QUEUED this long without starting',
});
const Target = Type.String({
  minLength: 1,
  maxLength: MAX_TARGET_LENGTH,
  description: 'The webhook URL (http or https), or the email address',
});
const Secret = Type.String({
  minLength: 16,
  maxLength: 200,
  description: 'Key of the X-Drover-Signature HMAC; made for you when left out',
});

const RuleBody = Type.Object({
  id: Type.Integer(),
  owner: Nullable(Type.String({ description: 'The user whose jobs it watches; null: global' })),
  name: Type.String(),
  events: Type.Array(Type.String()),
  channel: StringEnum(NOTIFICATION_CHANNELS),
  target: Type.String(),
  enabled: Type.Boolean(),
  taskFailures: Nullable(Type.Integer()),
  queueWaitSeconds: Nullable(Type.Integer()),
  jobId: Nullable(Type.Integer({ description: 'The one job it watches; null: all' })),
  createdAt: Time,
  createdBy: Type.String(),
});

const render = (rule: NotificationRule) => ({ ...rule, createdAt: iso(rule.createdAt) });

export function notificationRuleRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  const options = () => ({
    emailConfigured: engine.emailConfigured,
    webhookHosts: engine.webhookHosts,
  });
  return async (app) => {
    app.get(
      '/notification-rules',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Your notification rules (an admin: every rule, global ones included)',
          querystring: pageQuery(100),
          response: { 200: pageOf(RuleBody), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(
          request,
          (await notificationRulesOf(ctx, request.principal!)).map(render),
          request.query,
          100,
        ),
    );

    app.post(
      '/notification-rules',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Create a rule; a webhook rule answers its secret this once',
          body: Type.Object(
            {
              name: Type.Optional(Name),
              events: Events,
              channel: StringEnum(NOTIFICATION_CHANNELS),
              target: Target,
              secret: Type.Optional(Secret),
              global: Type.Optional(
                Type.Boolean({ description: 'Admins only: fire for every job, not just yours' }),
              ),
              enabled: Type.Optional(Type.Boolean()),
              taskFailures: Type.Optional(TaskFailures),
              queueWaitSeconds: Type.Optional(QueueWaitSeconds),
              jobId: Type.Optional(
                Type.Integer({
                  minimum: 1,
                  description: "Watch this one job only (yours; an admin: anyone's)",
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            201: Type.Intersect([RuleBody, Type.Object({ secret: Nullable(Type.String()) })]),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const rule = await createNotificationRule(ctx, request.principal!, request.body, options());
        return reply.status(201).send({ ...render(rule), secret: rule.secret });
      },
    );

    app.get(
      '/notification-rules/:id',
      {
        schema: {
          tags: ['notifications'],
          summary: 'One rule (yours, or any for an admin)',
          params: IdParams,
          response: { 200: RuleBody, ...errorResponses },
        },
      },
      async (request) => render(await notificationRule(ctx, request.principal!, request.params.id)),
    );

    app.get(
      '/notification-rules/:id/deliveries',
      {
        schema: {
          tags: ['notifications'],
          summary: "The rule's most recent notifications and how their delivery went, newest first",
          params: IdParams,
          querystring: beforeQuery(100),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  event: Type.String(),
                  jobId: Nullable(Type.Integer()),
                  nodeId: Nullable(Type.Integer()),
                  taskId: Nullable(Type.Integer()),
                  state: StringEnum(['PENDING', 'DELIVERED', 'FAILED']),
                  attempts: Type.Integer(),
                  nextAttemptAt: Time,
                  lastError: Nullable(Type.String()),
                  createdAt: Time,
                  deliveredAt: Time,
                }),
              ),
              ...beforePaging,
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 100;
        const read = await deliveriesOfRule(
          ctx,
          request.principal!,
          request.params.id,
          limit + 1,
          request.query.before,
        );
        const { rows, next } = beforePage(request, read, limit);
        return {
          limit,
          next,
          items: rows.map((d) => ({
            ...d,
            nextAttemptAt: iso(d.nextAttemptAt),
            createdAt: iso(d.createdAt),
            deliveredAt: iso(d.deliveredAt),
          })),
        };
      },
    );

    app.patch(
      '/notification-rules/:id',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Change a rule: its name, events, target, secret, or whether it is enabled',
          params: IdParams,
          body: Type.Object(
            {
              name: Type.Optional(Name),
              events: Type.Optional(Events),
              target: Type.Optional(Target),
              secret: Type.Optional(Secret),
              enabled: Type.Optional(Type.Boolean()),
              taskFailures: Type.Optional(TaskFailures),
              queueWaitSeconds: Type.Optional(QueueWaitSeconds),
            },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: RuleBody, ...errorResponses },
        },
      },
      async (request) =>
        render(
          await updateNotificationRuleOf(
            ctx,
            request.principal!,
            request.params.id,
            request.body,
            options(),
          ),
        ),
    );

    app.delete(
      '/notification-rules/:id',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Delete a rule; its notifications not yet sent are dropped',
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await deleteNotificationRuleOf(ctx, request.principal!, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
