import type { DroverError } from '../../domain/errors.js';
import { findExecution } from '../../store/executions.js';
import type { ExecutionRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import type { FinishReport } from './execution-batches.js';

/*
 * A finish sent again. A worker whose finish got no answer (the replica died after its
 * commit, or the answer was lost) sends it again, maybe to another replica; the execution
 * has ended by then, so the guard refuses it as stale. When the execution ended just as
 * this report says, by the node that sends it again, the repeat is answered as the first
 * call was (the execution's row) rather than with a 409 that would tell the worker its
 * work was thrown away. The execution id and the node are the token: anything else that
 * ended the execution (a reaped lease, a cancel, another outcome) still gets the 409.
 */

/** The ended execution `report` describes, or undefined when the refusal stands. */
export async function repeatedFinish(
  ctx: EngineContext,
  nodeId: number | undefined,
  report: FinishReport,
  refused: DroverError,
): Promise<ExecutionRow | undefined> {
  if (refused.code !== 'STALE_LEASE' || nodeId === undefined) return undefined;
  const execution = await findExecution(ctx.db, report.executionId);
  if (!execution || execution.node_id !== nodeId) return undefined;
  return sameEnd(execution, report) ? execution : undefined;
}

function sameEnd(execution: ExecutionRow, report: FinishReport): boolean {
  // The server may have marked it timed out itself (a NOTIFY timeout) before the report.
  if (report.timedOut && execution.timed_out !== 1) return false;
  if (report.success) {
    const exitCode = report.exitCode !== undefined ? report.exitCode : report.timedOut ? null : 0;
    return execution.state === 'COMPLETED' && execution.exit_code === exitCode;
  }
  if (execution.state !== 'FAILED' || execution.ended_at === null) return false;
  // A lease the reaper took ended FAILED too, but not by this node's report.
  if (execution.error_name === 'node-lost' && report.failure?.errorName !== 'node-lost') {
    return false;
  }
  if (execution.exit_code !== (report.exitCode ?? null)) return false;
  const errorName = report.failure?.errorName;
  return errorName === undefined || execution.error_name === errorName;
}
