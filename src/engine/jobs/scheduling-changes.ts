import { retryDelayJson } from '../../domain/retry-delay.js';
import { checkRetryRules } from '../../domain/retry-rules.js';
import type { Tx } from '../../store/database.js';
import type { JobUpdate } from '../../store/schema.js';
import { replaceJobLimits } from '../limits/limits.js';

/**
 * A change of a job's scheduling rules (docs/scheduling.md) within updateJobSettings: the
 * limits it names, its retry delay and its own retry rules (null: its type's again). Writes
 * the limits, puts the rest in `patch`, and answers the names of the fields changed.
 */
export async function changeScheduling(
  tx: Tx,
  jobId: number,
  changes: {
    limits?: string[];
    acceptUnknownLimits?: boolean;
    retryDelay?: unknown;
    retryRules?: unknown;
  },
  patch: JobUpdate,
): Promise<string[]> {
  const fields: string[] = [];
  if (changes.retryDelay !== undefined) {
    patch.retry_delay_json = retryDelayJson(changes.retryDelay);
    fields.push('retryDelay');
  }
  if (changes.retryRules !== undefined) {
    patch.retry_rules_json =
      changes.retryRules === null ? null : JSON.stringify(checkRetryRules(changes.retryRules));
    fields.push('retryRules');
  }
  if (changes.limits !== undefined) {
    await replaceJobLimits(tx, jobId, changes.limits, changes.acceptUnknownLimits ?? false);
    fields.push('limits');
  }
  return fields;
}
