/*
 * What a node is doing, as farm operators name it (Deadline's Idle/Rendering/Offline/
 * Disabled), derived from what the store keeps: whether the node reports (state), whether
 * it may take work (enabled), and whether it holds a live execution. One derivation for the
 * API, the CLI and /metrics, so they never disagree.
 *
 * - OFFLINE: it stopped reporting (whatever else is true: its leases run out on their own).
 * - QUARANTINED: it reports, but its failure rate took it out of the farm
 *   (docs/scheduling.md#quarantine) until an operator clears it; tasks it runs finish.
 * - DISABLED: it reports, but takes no new work; tasks it is running still finish.
 * - BUSY: it runs at least one execution.
 * - IDLE: it reports, may take work, and runs none.
 */
export const NODE_STATUSES = ['IDLE', 'BUSY', 'DISABLED', 'QUARANTINED', 'OFFLINE'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export function nodeStatus(
  node: { state: string; enabled: number | boolean; quarantined_at?: number | null },
  liveExecutions: number,
): NodeStatus {
  if (node.state !== 'ONLINE') return 'OFFLINE';
  if (node.quarantined_at !== null && node.quarantined_at !== undefined) return 'QUARANTINED';
  if (node.enabled === 0 || node.enabled === false) return 'DISABLED';
  return liveExecutions > 0 ? 'BUSY' : 'IDLE';
}
