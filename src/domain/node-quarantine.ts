/*
 * Farm-wide quarantine (docs/scheduling.md): which nodes fail so much more often than their
 * peers that they should stop taking work. Pure arithmetic over each node's executions that
 * ended within the window; the engine reads them and applies the verdict.
 */

export interface QuarantineRule {
  /** Failures within the window a node needs before it can be quarantined (0: never). */
  failures: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** The lowest failure rate (failed / ended executions) that can quarantine, 0 to 1. */
  minRate: number;
  /** The node's rate must also exceed this many times the farm's median rate. */
  medianFactor: number;
  /** Nodes that ended executions within the window, the node included, for a median to mean anything. */
  minNodes: number;
}

export const DEFAULT_QUARANTINE_RULE: QuarantineRule = {
  failures: 5,
  windowMs: 3_600_000,
  minRate: 0.5,
  medianFactor: 3,
  minNodes: 3,
};

export interface NodeFailureStats {
  nodeId: number;
  ended: number;
  failed: number;
}

export interface QuarantineVerdict {
  nodeId: number;
  reason: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const percent = (rate: number): string => `${Math.round(rate * 100)}%`;

/**
 * The nodes to quarantine among `stats` (every node that ended an execution in the window):
 * at least `failures` failures, a rate of at least `minRate`, and a rate above
 * `medianFactor` times the median of all their rates, with at least `minNodes` nodes.
 */
export function nodesToQuarantine(
  stats: readonly NodeFailureStats[],
  rule: QuarantineRule,
): QuarantineVerdict[] {
  const working = stats.filter((s) => s.ended > 0);
  if (rule.failures <= 0 || working.length < Math.max(2, rule.minNodes)) return [];
  const farm = median(working.map((s) => s.failed / s.ended));
  const minutes = Math.round(rule.windowMs / 60_000);
  return working
    .filter((s) => {
      const rate = s.failed / s.ended;
      return s.failed >= rule.failures && rate >= rule.minRate && rate > rule.medianFactor * farm;
    })
    .map((s) => ({
      nodeId: s.nodeId,
      reason:
        `failed ${s.failed} of ${s.ended} executions (${percent(s.failed / s.ended)}) in the last ${minutes} min; ` +
        `the farm's median is ${percent(farm)} over ${working.length} nodes ` +
        `(rule: at least ${rule.failures} failures, a rate of at least ${percent(rule.minRate)} and over ${rule.medianFactor} times the median)`,
    }));
}
