/*
 * What a node is doing, as farm operators name it (Deadline's Idle/Rendering/Offline/
 * Disabled), derived from what the store keeps: whether the node reports (state), whether
 * it may take work (enabled), and whether it holds a live execution. One derivation for the
 * API, the CLI and /metrics, so they never disagree.
 *
 * - OFFLINE: it stopped reporting (whatever else is true: its leases run out on their own).
 * - DISABLED: it reports, but takes no new work; tasks it is running still finish.
 * - BUSY: it runs at least one execution.
 * - IDLE: it reports, may take work, and runs none.
 *
 * QUARANTINED is not among them: nothing in Drover quarantines a node.
 */
export const NODE_STATUSES = ['IDLE', 'BUSY', 'DISABLED', 'OFFLINE'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export function nodeStatus(
  node: { state: string; enabled: number | boolean },
  liveExecutions: number,
): NodeStatus {
  if (node.state !== 'ONLINE') return 'OFFLINE';
  if (node.enabled === 0 || node.enabled === false) return 'DISABLED';
  return liveExecutions > 0 ? 'BUSY' : 'IDLE';
}
