import { sql } from 'kysely';
import type { Executor } from './database.js';
import { failedExecutionCounts } from './execution-statistics.js';

/*
 * What a jobs table needs beside each job's row to estimate when it ends and to show its
 * errors: the mean duration of its recently completed tries, and its failed tries. Only
 * the newest SAMPLE completed executions of each job are read (on executions_job), so a job
 * of 100,000 finished tasks costs what one of 200 does.
 */

const SAMPLE = 200;

export interface JobTiming {
  /** Completed executions the mean was taken over (at most SAMPLE). */
  sampled: number;
  /** Mean ended_at − started_at of those, in ms; null when none completed. */
  meanMs: number | null;
  /** Failed executions of the job (every try that ended in failure). */
  errors: number;
}

export async function jobTimings(
  db: Executor,
  jobIds: readonly number[],
): Promise<Map<number, JobTiming>> {
  const errors = await failedExecutionCounts(db, jobIds);
  const timings = new Map<number, JobTiming>();
  for (const jobId of jobIds) {
    const row = await db
      .selectFrom((eb) =>
        eb
          .selectFrom('executions')
          .select(sql<number>`ended_at - started_at`.as('ms'))
          .where('job_id', '=', jobId)
          .where('state', '=', 'COMPLETED')
          .where('started_at', 'is not', null)
          .where('ended_at', 'is not', null)
          .orderBy('exe_num', 'desc')
          .limit(SAMPLE)
          .as('recent'),
      )
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('recent.ms').as('total'),
      ])
      .executeTakeFirst();
    const sampled = Number(row?.n ?? 0);
    timings.set(jobId, {
      sampled,
      meanMs: sampled > 0 ? Number(row?.total ?? 0) / sampled : null,
      errors: errors.get(jobId) ?? 0,
    });
  }
  return timings;
}
