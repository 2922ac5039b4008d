import type { Executor } from '../../store/database.js';
import { limitUse } from '../../store/limits.js';
import { escape } from '../http-metrics.js';

/*
 * Gauges of each limit's use and count, labelled by limit name: operators define limits and
 * a farm has few, and past MAX_LIMIT_SERIES (by name) the rest are left out, so the label
 * stays bounded. In use is counted as the claim counts it (store/limits.ts): tasks, or
 * machines for a per-machine limit.
 */

export const MAX_LIMIT_SERIES = 200;

export async function limitGauges(db: Executor): Promise<string[]> {
  const limits = await db
    .selectFrom('limits')
    .select(['name', 'max_count', 'per'])
    .orderBy('name')
    .limit(MAX_LIMIT_SERIES)
    .execute();
  const use = await Promise.all(limits.map((l) => limitUse(db, l.name)));
  const label = (name: string) => `{limit="${escape(name)}"}`;
  return [
    `# HELP drover_limit_in_use Tasks (machines, for a per-machine limit) holding each limit (the first ${MAX_LIMIT_SERIES} limits by name).`,
    '# TYPE drover_limit_in_use gauge',
    ...limits.map(
      (l, i) =>
        `drover_limit_in_use${label(l.name)} ${l.per === 'MACHINE' ? use[i]!.nodes : use[i]!.tasks}`,
    ),
    `# HELP drover_limit_max How many may hold each limit at once (the first ${MAX_LIMIT_SERIES} limits by name).`,
    '# TYPE drover_limit_max gauge',
    ...limits.map((l) => `drover_limit_max${label(l.name)} ${l.max_count}`),
  ];
}
