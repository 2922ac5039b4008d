import { sql } from 'kysely';
import type { ExecutionUsageColumns } from '../domain/execution-usage.js';
import type { Executor } from './database.js';

/**
 * Writes the measured figures of ended executions, in one statement. SQLite only: it is the
 * SQLite path of a batch of successes (task-completions.ts), where PostgreSQL writes the
 * figures in its one completion statement. Rows with no
 * figure at all are skipped, and nothing runs when none has one.
 */
export async function recordExecutionUsage(
  tx: Executor,
  rows: readonly (ExecutionUsageColumns & { executionId: number })[],
): Promise<void> {
  const measured = rows.filter(
    (r) =>
      r.cpu_seconds !== null ||
      r.wall_seconds !== null ||
      r.peak_memory_bytes !== null ||
      r.gpu_seconds !== null,
  );
  if (measured.length === 0) return;
  const json = JSON.stringify(
    measured.map((r) => [
      r.executionId,
      r.cpu_seconds,
      r.wall_seconds,
      r.peak_memory_bytes,
      r.gpu_seconds,
    ]),
  );
  // SQLite (3.33+) takes an update from json_each: one bound parameter whatever the count.
  await sql`
    update executions set cpu_seconds = v.value ->> 1, wall_seconds = v.value ->> 2,
      peak_memory_bytes = v.value ->> 3, gpu_seconds = v.value ->> 4
    from json_each(${json}) as v
    where executions.id = v.value ->> 0
  `.execute(tx);
}
