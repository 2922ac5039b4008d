import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { getJob, getTask } from '../../engine/queries.js';
import { applyTaskAction, TASK_ACTIONS } from '../../engine/tasks/task-actions.js';
import { statusMessagesOf } from '../../store/executions.js';
import { listTasks } from '../../store/tasks.js';
import { Task } from './execution-schemas.js';
import { nextLink } from './page-links.js';
import { taskJson } from './representations.js';
import { errorResponses, IdParams, pageQuery, pageOf, TaskState } from './schemas.js';

export function taskRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/jobs/:id/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: "A job's tasks in index order",
          params: IdParams,
          querystring: Type.Intersect([
            pageQuery(1000),
            Type.Object({ state: Type.Optional(Type.Array(TaskState)) }),
          ]),
          response: { 200: pageOf(Task), ...errorResponses },
        },
      },
      async (request) => {
        await getJob(ctx, request.params.id);
        const limit = request.query.limit ?? 1000;
        const offset = request.query.offset ?? 0;
        const { rows, total } = await listTasks(ctx.db, request.params.id, {
          ...(request.query.state ? { states: request.query.state } : {}),
          limit,
          offset,
        });
        const messages = await statusMessagesOf(
          ctx.db,
          rows.flatMap((r) => (r.last_execution_id === null ? [] : [r.last_execution_id])),
        );
        const items = rows.map((r) =>
          taskJson(r, r.last_execution_id === null ? null : messages.get(r.last_execution_id)),
        );
        return {
          items,
          total,
          limit,
          offset,
          next: nextLink(request, { count: items.length, total, limit, offset }),
        };
      },
    );

    app.get(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'One task',
          params: IdParams,
          response: { 200: Task, ...errorResponses },
        },
      },
      async (request) => {
        const task = await getTask(ctx, request.params.id);
        if (task.last_execution_id === null) return taskJson(task);
        const messages = await statusMessagesOf(ctx.db, [task.last_execution_id]);
        return taskJson(task, messages.get(task.last_execution_id));
      },
    );

    app.post(
      '/tasks/:id/:action',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Apply an action to one task',
          description:
            'requeue, suspend, resume, pend, release, complete, fail, reset (a failed task back to the queue).',
          params: Type.Object({
            id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
            action: Type.Union(TASK_ACTIONS.map((a) => Type.Literal(a))),
          }),
          response: { 200: Task, ...errorResponses },
        },
      },
      async (request) => {
        const task = await getTask(ctx, request.params.id);
        await applyTaskAction(ctx, task.job_id, [task.id], request.params.action);
        return taskJson(await getTask(ctx, task.id));
      },
    );
  };
}
