import { notFound } from '../domain/errors.js';
import { findExecution, liveExecutionsOfNode } from '../store/executions.js';
import { familyProgress } from '../store/job-families.js';
import { findJobType } from '../store/job-types.js';
import { dependenciesOf, findJob, nodeListOf } from '../store/jobs.js';
import { jobLimitNames } from '../store/limits.js';
import { findNode } from '../store/nodes.js';
import type { ExecutionRow, JobRow, JobTypeRow, NodeRow, TaskRow } from '../store/schema.js';
import { findTask } from '../store/tasks.js';
import type { EngineContext } from './context.js';

/* Reads that the faces share; each answers NOT_FOUND for an unknown id. */

export async function getJob(ctx: EngineContext, id: number): Promise<JobRow> {
  return (await findJob(ctx.db, id)) ?? Promise.reject(notFound('job', id));
}

export async function getJobDetail(ctx: EngineContext, id: number) {
  const job = await getJob(ctx, id);
  const [type, nodes, dependencies, limits, family] = await Promise.all([
    getJobType(ctx, job.job_type_id),
    nodeListOf(ctx.db, id),
    dependenciesOf(ctx.db, id),
    job.uses_limits !== 0 ? jobLimitNames(ctx.db, id) : [],
    // A parent has no tasks of its own: its progress is its steps'.
    job.task_count === 0 ? familyProgress(ctx.db, [id]) : undefined,
  ]);
  return { job, type, nodes, dependencies, limits, family: family?.get(id) };
}

export async function getTask(ctx: EngineContext, id: number): Promise<TaskRow> {
  return (await findTask(ctx.db, id)) ?? Promise.reject(notFound('task', id));
}

export async function getExecution(ctx: EngineContext, id: number): Promise<ExecutionRow> {
  return (await findExecution(ctx.db, id)) ?? Promise.reject(notFound('execution', id));
}

export async function getNode(ctx: EngineContext, id: number): Promise<NodeRow> {
  return (await findNode(ctx.db, id)) ?? Promise.reject(notFound('node', id));
}

export async function getNodeWithWork(ctx: EngineContext, id: number) {
  const node = await getNode(ctx, id);
  const live = await liveExecutionsOfNode(ctx.db, id);
  return { node, executions: live.map((e) => e.id) };
}

export async function getJobType(ctx: EngineContext, id: number): Promise<JobTypeRow> {
  return (await findJobType(ctx.db, id)) ?? Promise.reject(notFound('job type', id));
}
