import { DroverError } from '../../domain/errors.js';
import { findExecution } from '../../store/executions.js';
import { findJob, findJobs } from '../../store/jobs.js';
import { bindNodeAccount, findNode } from '../../store/nodes.js';
import { findSession } from '../../store/sessions.js';
import { findTask } from '../../store/tasks.js';
import type { EngineContext } from '../context.js';
import type { Principal } from './accounts.js';
import { reachOf, type Reach } from './grants.js';

/*
 * Who may change what, the same for every face: a user may read everything and change
 * the jobs they own (the submitting user), plus those their grants reach (every job of a
 * pool they manage, every job for a wrangler); an admin may change anything; a node may
 * speak only for the node its account is bound to. Faces map their credentials onto a
 * Principal and call these; the route-level table (src/api/authorization) decides which
 * kind of caller may reach a route at all. Grants are read from the database when a user
 * acts on a job they do not own (never cached across requests), so a grant revoked on any
 * replica stops working at once everywhere.
 */

export interface JobOwnership {
  user_name: string;
  pool: string;
}

export function isAdmin(principal: Principal | undefined): boolean {
  return principal?.role === 'admin';
}

/** Whether the caller may change the job without help from a grant. */
function ownsOrAdmin(principal: Principal | undefined, job: JobOwnership): boolean | undefined {
  if (!principal || principal.role === 'node') return false;
  if (principal.role === 'admin' || job.user_name === principal.name) return true;
  return undefined;
}

const reaches = (reach: Reach, job: JobOwnership): boolean =>
  reach.everyJob || (job.pool !== '' && reach.pools.has(job.pool));

export async function mayChangeJob(
  ctx: EngineContext,
  principal: Principal | undefined,
  job: JobOwnership,
): Promise<boolean> {
  const plain = ownsOrAdmin(principal, job);
  if (plain !== undefined) return plain;
  return reaches(await reachOf(ctx, principal!.id), job);
}

function forbiddenJob(principal: Principal | undefined, jobId: number, job: JobOwnership) {
  const owner = job.user_name;
  const pool = job.pool ? `, a manager of pool ${job.pool}` : '';
  return new DroverError(
    'FORBIDDEN',
    `job ${jobId} belongs to ${owner}; ${principal?.name ?? 'an anonymous caller'} may not change it (ask ${owner}${pool} or an admin)`,
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
  if (job && !(await mayChangeJob(ctx, principal, job))) throw forbiddenJob(principal, jobId, job);
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

export async function assertActsForSession(
  ctx: EngineContext,
  principal: Principal | undefined,
  sessionId: number,
): Promise<void> {
  if (isAdmin(principal)) return;
  const session = Number.isSafeInteger(sessionId)
    ? await findSession(ctx.db, sessionId)
    : undefined;
  if (session) await assertActsAsNode(ctx, principal, session.node_id);
}

/*
 * A protected job may be deleted, purged or archived only by its owner or an admin
 * (Deadline's `Protected`: "only by the job's user or a super user"). It comes on top of the
 * right to change the job, which the caller must have as well: grants (a pool's manager, a
 * wrangler) do not reach past it, nor may they set or clear the flag.
 */

export type Removal = 'delete' | 'purge' | 'archive';

export function assertMayRemove(
  principal: Principal | undefined,
  job: JobOwnership & { id: number; protected: number },
  what: Removal,
): void {
  if (!job.protected || ownsOrAdmin(principal, job) === true) return;
  throw new DroverError(
    'FORBIDDEN',
    `job ${job.id} is protected: only its owner (${job.user_name}) or an admin may ${what} it`,
  );
}

/** As assertMayRemove, by id; a missing job is left to the caller. */
export async function assertMayRemoveJob(
  ctx: EngineContext,
  principal: Principal | undefined,
  jobId: number,
  what: Removal,
): Promise<void> {
  if (isAdmin(principal)) return;
  const job = Number.isSafeInteger(jobId) ? await findJob(ctx.db, jobId) : undefined;
  if (job) assertMayRemove(principal, job, what);
}

/** Setting or clearing the flag is the owner's or an admin's; sending it unchanged is anyone's. */
export async function assertMayProtectJob(
  ctx: EngineContext,
  principal: Principal | undefined,
  jobId: number,
  value: boolean,
): Promise<void> {
  if (isAdmin(principal)) return;
  const job = Number.isSafeInteger(jobId) ? await findJob(ctx.db, jobId) : undefined;
  if (!job || Boolean(job.protected) === value || ownsOrAdmin(principal, job) === true) return;
  throw new DroverError(
    'FORBIDDEN',
    `only the owner of job ${jobId} (${job.user_name}) or an admin may ${value ? 'protect' : 'unprotect'} it`,
  );
}

/** The jobs among `ids` that `principal` may change (bulk commands skip the others). */
export async function changeableJobIds(
  ctx: EngineContext,
  principal: Principal | undefined,
  ids: readonly number[],
): Promise<number[]> {
  if (isAdmin(principal)) return [...ids];
  const jobs = await findJobs(ctx.db, ids);
  let reach: Reach | undefined;
  const allowed = new Set<number>();
  for (const job of jobs) {
    let may = ownsOrAdmin(principal, job);
    if (may === undefined) {
      reach ??= await reachOf(ctx, principal!.id);
      may = reaches(reach, job);
    }
    if (may) allowed.add(job.id);
  }
  return ids.filter((id) => allowed.has(id));
}
