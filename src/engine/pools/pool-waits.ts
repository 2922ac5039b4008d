import { findPoolRow, poolShareRows, userRunning } from '../../store/pools.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';

/*
 * Waiting reasons of a pool's scheduling mode (docs/scheduling.md): a user at their burst
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
  const mine = (await poolShareRows(ctx.db, pool.name)).find((s) => s.user_name === job.user_name);
  const share = mine ? Number(mine.share) : 1;
  const running = await userRunning(ctx.db, pool.name, job.user_name);
  if (mine?.burst != null && running >= mine.burst) {
    return [
      {
        code: 'BURST_LIMIT',
        holds: true,
        message: `user ${job.user_name} is at their burst limit in pool ${pool.name} (${running} running, limit ${mine.burst})`,
      },
    ];
  }
  return [
    {
      code: 'FAIR_SHARE',
      holds: false,
      message: `pool ${pool.name} is weighted: user ${job.user_name} runs ${running} task(s) at share ${share}; among jobs of priority ${job.priority} users further below their share go first, so it may wait behind a fairer share`,
    },
  ];
}
