import {
  checkPathMappingRule,
  mergePathMappingRules,
  type PathMappingRule,
} from '../domain/path-mapping-rules.js';
import type { WorkOrder } from './work-order.js';

/*
 * The path mapping rules a task runs with (docs/workers.md#path-mapping): the rules of its
 * job's pool, which its work order carries from the server, then this worker's own
 * --path-mapping-rules file, whose rule for the same source path replaces the pool's
 * (mergePathMappingRules). The server checked the pool's rules; they are checked again here,
 * since a worker acts on what it is sent: a bad one fails the task's launch, saying why.
 */

const MAX_PATH = 4096;

export function rulesForOrder(
  order: WorkOrder,
  local: readonly PathMappingRule[],
): PathMappingRule[] {
  const sent = order.pathMappingRules ?? [];
  if (!Array.isArray(sent)) throw new Error("the work order's pathMappingRules is not a list");
  const server = sent.map((rule, i) =>
    checkPathMappingRule(rule, `the pool's path mapping rule ${i}`, { maxPathLength: MAX_PATH }),
  );
  return mergePathMappingRules(server, local);
}

/** Tells two rule lists apart: a session holds the rules it was entered with. */
export const rulesKey = (rules: readonly PathMappingRule[]): string => JSON.stringify(rules);
