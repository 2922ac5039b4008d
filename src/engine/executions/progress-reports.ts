import { DroverError, invalid } from '../../domain/errors.js';
import { updateExecution } from '../../store/executions.js';
import type { ExecutionRow } from '../../store/schema.js';
import { updateTask } from '../../store/tasks.js';
import { inTransaction, type EngineContext } from '../context.js';
import { groupCommitPerEngine, REPORT_SPACING_MS } from '../dispatch/group-commit.js';
import type { EngineSettings } from '../settings.js';
import { guard, type Guarded } from './execution-reports.js';

interface Progress {
  executionId: number;
  nodeId: number | undefined;
  percent: number | undefined;
  details: Record<string, unknown> | undefined;
  status: string | undefined;
}

/** The longest status message kept; a longer one is cut, since it is a line for people. */
export const MAX_STATUS_MESSAGE = 1000;

const progressWriter = groupCommitPerEngine(writeProgress, {
  spacingMs: REPORT_SPACING_MS,
});

/**
 * Progress in percent (0–100), a status message (what the command says it is doing), or
 * both; a report also extends the lease. Reports that arrive while a
 * batch of them is being written go together in the next transaction (GroupCommit), each
 * answered after that commit, so a farm's progress costs a few commits a second.
 */
export async function reportProgress(
  ctx: EngineContext,
  settings: EngineSettings,
  executionId: number,
  nodeId: number | undefined,
  percent: number | undefined,
  details?: Record<string, unknown>,
  status?: string,
): Promise<void> {
  if (percent !== undefined && !(percent >= 0 && percent <= 100)) {
    throw invalid('progress must be between 0 and 100');
  }
  if (percent === undefined && status === undefined) {
    throw invalid('a progress report needs progress, status or both');
  }
  const refused = await progressWriter(ctx, settings).submit({
    executionId,
    nodeId,
    percent,
    details,
    status: status?.slice(0, MAX_STATUS_MESSAGE),
  });
  if (refused) throw refused;
}

async function writeProgress(
  ctx: EngineContext,
  settings: EngineSettings,
  items: readonly Progress[],
): Promise<(DroverError | null)[]> {
  return inTransaction(ctx, async (tx, emit) => {
    const results: (DroverError | null)[] = [];
    for (const item of items) {
      let checked: Guarded<ExecutionRow>;
      try {
        checked = await guard(ctx, tx, emit, item.executionId, item.nodeId);
      } catch (error) {
        // Not found: a read that found nothing leaves the transaction usable.
        if (!(error instanceof DroverError)) throw error;
        results.push(error);
        continue;
      }
      if ('refused' in checked) {
        results.push(checked.refused);
        continue;
      }
      const execution = checked.ok;
      const now = ctx.clock();
      await updateExecution(tx, execution.id, {
        ...(item.percent !== undefined ? { progress: item.percent } : {}),
        ...(item.status !== undefined ? { status_message: item.status } : {}),
        lease_expires_at: now + settings.leaseMs,
        last_heartbeat: now,
        last_modified: now,
      });
      if (item.percent !== undefined) {
        await updateTask(tx, execution.task_id, { progress: item.percent, last_modified: now });
      }
      emit({
        type: 'task.progress',
        jobId: execution.job_id,
        taskId: execution.task_id,
        progress: item.percent ?? execution.progress,
        ...(item.details !== undefined ? { details: item.details } : {}),
        ...(item.status !== undefined ? { status: item.status } : {}),
      });
      results.push(null);
    }
    return results;
  });
}
