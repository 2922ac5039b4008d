import { DroverError } from '../domain/errors.js';
import { findExecution } from '../store/executions.js';
import { findJob, findJobs } from '../store/jobs.js';
import { bindNodeAccount, findNode } from '../store/nodes.js';
import { findTask } from '../store/tasks.js';
import type { Principal } from './accounts.js';
import type { EngineContext } from './context.js';

/*
 * Who may change what, the same for every face: a user may read everything and change
 * only the jobs they own (the submitting user); an admin may change anything; a node may
 * speak only for the node its account is bound to. Faces map their credentials onto a
 * Principal and call these; the route-level table (src/api/authorization) decides which
 * kind of caller may reach a route at all.
 */

export interface JobOwnership {
  user_name: string;
}

export function isAdmin(principal: Principal | undefined): boolean {
  return principal?.role === 'admin';
}

export function mayChangeJob(principal: Principal | undefined, job: JobOwnership): boolean {
  if (!principal || principal.role === 'node') return false;
  return principal.role === 'admin' || job.user_name === principal.name;
}

function forbiddenJob(principal: Principal | undefined, jobId: number, owner: string) {
  return new DroverError(
    'FORBIDDEN',
    `job ${jobId} belongs to ${owner}; ${principal?.name ?? 'an anonymous caller'} may not change it (ask ${owner} or an admin)`,
  );
}

/** Throws FORBIDDEN unless `principal` may change the job; a missing job is left to the caller. */
export async function assertMayChangeJob(
  ctx: EngineContext,
  principal: Principal | undefined,
  jobId: number,
): Promise<void> {
  if (isAdmin(principal)) return;
  const job = Number.isSafeInteger(jobId) ? await findJob(ctx.db, jobId) : undefined;
  if (job && !mayChangeJob(principal, job)) throw forbiddenJob(principal, jobId, job.user_name);
}

export async function assertMayChangeTask(
  ctx: EngineContext,
  principal: Principal | undefined,
  taskId: number,
): Promise<void> {
  if (isAdmin(principal)) return;
  const task = Number.isSafeInteger(taskId) ? await findTask(ctx.db, taskId) : undefined;
  if (task) await assertMayChangeJob(ctx, principal, task.job_id);
}

/**
 * Lets `principal` speak for node `nodeId`: an admin for any node, any other account only
 * for the node bound to it. A node registered before binding existed is taken by the first
 * account that speaks for it. A missing node is left to the caller (404).
 */
export async function assertActsAsNode(
  ctx: EngineContext,
  principal: Principal | undefined,
  nodeId: number,
): Promise<void> {
  if (isAdmin(principal)) return;
  if (!principal) {
    throw new DroverError('UNAUTHENTICATED', 'send the credentials of the node account');
  }
  const node = Number.isSafeInteger(nodeId) ? await findNode(ctx.db, nodeId) : undefined;
  if (!node) return;
  if (node.account_id === null || node.account_id === undefined) {
    await bindNodeAccount(ctx.db, node.id, principal.id);
    const again = await findNode(ctx.db, node.id);
    if (again?.account_id === principal.id) return;
  } else if (node.account_id === principal.id) {
    return;
  }
  throw new DroverError(
    'FORBIDDEN',
    `node ${nodeId} is bound to another account; ${principal.name} may speak only for its own node`,
  );
}

export async function assertActsForExecution(
  ctx: EngineContext,
  principal: Principal | undefined,
  executionId: number,
): Promise<void> {
  if (isAdmin(principal)) return;
  const execution = Number.isSafeInteger(executionId)
    ? await findExecution(ctx.db, executionId)
    : undefined;
  if (execution) await assertActsAsNode(ctx, principal, execution.node_id);
}

/** The jobs among `ids` that `principal` may change (bulk commands skip the others). */
export async function changeableJobIds(
  ctx: EngineContext,
  principal: Principal | undefined,
  ids: readonly number[],
): Promise<number[]> {
  if (isAdmin(principal)) return [...ids];
  const jobs = await findJobs(ctx.db, ids);
  const allowed = new Set(jobs.filter((j) => mayChangeJob(principal, j)).map((j) => j.id));
  return ids.filter((id) => allowed.has(id));
}
