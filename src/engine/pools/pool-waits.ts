import { findPoolRow, holderRunning, poolShareRows } from '../../store/pools.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';

/*
 * Waiting reasons of a pool's scheduling mode (docs/scheduling.md): a user (or a project,
 * in a pool shared by project) at their burst
 * limit (which holds the job back), and the fair ordering of balanced and weighted pools
 * (which puts it behind jobs with a fairer claim to the next free node).
 */

export interface PoolWait {
  code: 'BURST_LIMIT' | 'FAIR_SHARE';
  message: string;
  /** The job cannot start while this holds, whatever the nodes do. */
  holds: boolean;
}

export async function poolWaits(ctx: EngineContext, job: JobRow): Promise<PoolWait[]> {
  if (job.pool === '') return [];
  const pool = await findPoolRow(ctx.db, job.pool);
  if (!pool || pool.mode === 'priority') return [];
  if (pool.mode === 'balanced') {
    return [
      {
        code: 'FAIR_SHARE',
        holds: false,
        message: `pool ${pool.name} is balanced: among jobs of priority ${job.priority} the next free node goes to the job running fewest tasks; this one runs ${job.tasks_running}, so it may wait behind a fairer share`,
      },
    ];
  }
  const byProject = pool.share_by === 'project';
  const holder = byProject ? job.project : job.user_name;
  const mine = (await poolShareRows(ctx.db, pool.name)).find((s) => s.user_name === holder);
  const share = mine ? Number(mine.share) : 1;
  const running = await holderRunning(ctx.db, pool.name, pool.share_by, holder);
  // "project X is at its share", "user bob is at their …"
  const who = byProject
    ? holder === ''
      ? 'jobs without a project'
      : `project ${holder}`
    : `user ${holder}`;
  const their = byProject ? 'its' : 'their';
  if (mine?.burst != null && running >= mine.burst) {
    return [
      {
        code: 'BURST_LIMIT',
        holds: true,
        message: `${who} is at ${their} burst limit in pool ${pool.name} (${running} running, limit ${mine.burst})`,
      },
    ];
  }
  return [
    {
      code: 'FAIR_SHARE',
      holds: false,
      message: byProject
        ? `pool ${pool.name} is weighted by project: ${who} ${holder === '' ? 'run' : 'runs'} ${running} task(s) at share ${share}; among jobs of priority ${job.priority} projects further below their share go first, so it may wait behind a fairer share`
        : `pool ${pool.name} is weighted: user ${holder} runs ${running} task(s) at share ${share}; among jobs of priority ${job.priority} users further below their share go first, so it may wait behind a fairer share`,
    },
  ];
}
