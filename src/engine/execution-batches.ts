import { DroverError } from '../domain/errors.js';
import { inTransaction, type EngineContext } from './context.js';
import type { Failure } from './execution-reports.js';
import {
  completeExecution,
  completeIn,
  failExecution,
  failReportedExecution,
  guard,
} from './execution-reports.js';
import type { EngineSettings } from './settings.js';

/** What a node reports about one execution it ran. */
export interface FinishReport {
  executionId: number;
  success: boolean;
  exitCode?: number | null;
  /** With success: false. */
  failure?: Failure;
  timedOut?: boolean;
}

/** Each report's fate: 200 recorded, 409 refused (the lease is gone), 404, or 400. */
export interface FinishResult {
  executionId: number;
  status: number;
  code?: string;
  message?: string;
}

/** The most reports one call may carry. */
export const MAX_FINISHES = 100;

/**
 * Records several finishes of one node in one transaction: one commit (one fsync) and one
 * round of events for the lot, where one call per finish paid them each. A report whose
 * lease is gone is refused on its own (409) without failing the others. Should recording
 * any report throw (an unknown error name, an execution that does not exist), the whole
 * transaction is undone and each report is recorded again in its own transaction, so each
 * gets the answer it would have had alone.
 */
export async function finishExecutions(
  ctx: EngineContext,
  settings: EngineSettings,
  nodeId: number,
  reports: readonly FinishReport[],
): Promise<FinishResult[]> {
  try {
    return await inTransaction(ctx, async (tx, emit) => {
      const results: FinishResult[] = [];
      for (const r of reports) {
        const checked = await guard(ctx, tx, emit, r.executionId, nodeId);
        if ('refused' in checked) {
          results.push(answer(r.executionId, checked.refused));
          continue;
        }
        if (r.success) {
          await completeIn(ctx, tx, emit, settings, checked.ok, exitCodeOf(r), {
            timedOut: r.timedOut ?? false,
          });
        } else {
          await failExecution(ctx, tx, emit, checked.ok, 'fail', failureOf(r));
        }
        results.push({ executionId: r.executionId, status: 200 });
      }
      return results;
    });
  } catch {
    const results: FinishResult[] = [];
    for (const r of reports) {
      try {
        if (r.success) {
          await completeExecution(ctx, settings, r.executionId, nodeId, exitCodeOf(r), {
            timedOut: r.timedOut ?? false,
          });
        } else {
          await failReportedExecution(ctx, r.executionId, nodeId, failureOf(r));
        }
        results.push({ executionId: r.executionId, status: 200 });
      } catch (error) {
        if (!(error instanceof DroverError)) throw error;
        results.push(answer(r.executionId, error));
      }
    }
    return results;
  }
}

/** A command killed at its timeout (COMPLETE) reports no exit code; none is recorded. */
function exitCodeOf(r: FinishReport): number | null {
  return r.exitCode !== undefined ? r.exitCode : r.timedOut ? null : 0;
}

function failureOf(r: FinishReport): Failure {
  return { ...r.failure, exitCode: r.exitCode ?? null, timedOut: r.timedOut ?? false };
}

function answer(executionId: number, error: DroverError): FinishResult {
  return { executionId, status: error.status, code: error.code, message: error.message };
}
