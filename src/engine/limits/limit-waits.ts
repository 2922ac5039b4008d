import type { Executor } from '../../store/database.js';
import {
  findLimitByName,
  jobLimitNames,
  limitAdmits,
  limitNodes,
  limitUse,
} from '../../store/limits.js';
import type { NodeRow } from '../../store/schema.js';

/** Why a job's limits hold it back, for jobs/waiting-reasons.ts. */
export interface LimitWait {
  code: 'LIMIT_MISSING' | 'LIMIT_NO_NODE' | 'LIMIT_FULL';
  message: string;
}

/**
 * What stops the job among the limits it names, given the online nodes that could
 * otherwise run it: a limit that does not exist, one whose node list admits none of them,
 * or one with no room ("waiting for licence nuke (10/10 in use)").
 */
export async function limitWaits(
  db: Executor,
  jobId: number,
  nodes: readonly NodeRow[],
): Promise<LimitWait[]> {
  const waits: LimitWait[] = [];
  for (const name of await jobLimitNames(db, jobId)) {
    const limit = await findLimitByName(db, name);
    if (!limit) {
      waits.push({
        code: 'LIMIT_MISSING',
        message: `waiting for licence ${name}, which does not exist (create it: drover limit create ${name} --max N)`,
      });
      continue;
    }
    const admitted: NodeRow[] = [];
    for (const n of nodes) if (await limitAdmits(db, limit, n.name)) admitted.push(n);
    if (admitted.length === 0) {
      const mode = limit.node_list_mode === 'ALLOW' ? 'allow' : 'deny';
      const list = (await limitNodes(db, limit.id)).join(', ');
      waits.push({
        code: 'LIMIT_NO_NODE',
        message: `licence ${name}'s ${mode} list (${list}) admits none of the online nodes that could run it`,
      });
      continue;
    }
    const use = await limitUse(db, name);
    if (limit.per === 'MACHINE' ? use.nodes >= limit.max_count : use.tasks >= limit.max_count) {
      const what = limit.per === 'MACHINE' ? ' machines' : '';
      waits.push({
        code: 'LIMIT_FULL',
        message: `waiting for licence ${name} (${limit.per === 'MACHINE' ? use.nodes : use.tasks}/${limit.max_count}${what} in use)`,
      });
    }
  }
  return waits;
}
