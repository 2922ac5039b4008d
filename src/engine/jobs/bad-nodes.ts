import { clearNodeFailures, nodeFailuresOf, type NodeBlock } from '../../store/node-blocks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { getJob } from '../queries.js';
import { lockedJob } from './job-actions.js';

/*
 * Bad nodes (docs/scheduling.md): the nodes that failed a job, those blocked from it after
 * its `badNodeFailures` failures, and an operator's clearing of them. The count is kept in
 * executions/execution-failures.ts; the claim leaves blocked nodes out.
 */

export async function jobNodeFailures(ctx: EngineContext, jobId: number): Promise<NodeBlock[]> {
  await getJob(ctx, jobId);
  return nodeFailuresOf(ctx.db, jobId);
}

/**
 * Forgets the job's failures on one node (or all): blocked nodes may take the job again.
 * Answers how many blocked nodes were let back.
 */
export async function clearJobNodeFailures(
  ctx: EngineContext,
  jobId: number,
  nodeId?: number,
): Promise<number> {
  return inTransaction(ctx, async (tx, emit) => {
    await lockedJob(ctx, tx, jobId);
    const freed = await clearNodeFailures(tx, jobId, nodeId);
    if (freed > 0) emit({ type: 'job.updated', jobId, fields: ['blockedNodes'] });
    return freed;
  });
}
