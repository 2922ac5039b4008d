import { query, request } from './client';
import type { DroverNode } from './types';

/*
 * The native routes of the operator's pages (issue 18): node memberships, a job's usage and
 * bad nodes, limits and notification rules. Kept apart from endpoints.ts so that the move
 * to the generated client can replace that file without touching these.
 */

export interface UsageFigures {
  executions: number;
  cpuHours: number;
  wallHours: number;
  gpuHours: number | null;
  peakMemoryBytes: number | null;
}

export interface NodeFailure {
  nodeId: number;
  nodeName: string | null;
  failures: number;
  blocked: boolean;
  lastFailureAt: string;
}

export interface Limit {
  name: string;
  maxCount: number;
  per: 'TASK' | 'MACHINE';
  nodeList: { mode: 'NONE' | 'ALLOW' | 'DENY'; nodes: string[] };
  description: string;
  inUse: number;
  createdAt: string;
  lastModified: string;
}

export interface LimitInput {
  name?: string;
  maxCount?: number;
  per?: 'TASK' | 'MACHINE';
  description?: string;
}

export interface NotificationRule {
  id: number;
  owner: string | null;
  name: string;
  events: string[];
  channel: 'webhook' | 'email';
  target: string;
  enabled: boolean;
  taskFailures: number | null;
  queueWaitSeconds: number | null;
  jobId: number | null;
  createdAt: string;
  createdBy: string;
}

export interface RuleInput {
  name?: string;
  events?: string[];
  channel?: 'webhook' | 'email';
  target?: string;
  enabled?: boolean;
  taskFailures?: number;
  queueWaitSeconds?: number;
}

export type UsageGroup = 'user' | 'pool' | 'jobType' | 'job';

export interface UsageReport {
  group: UsageGroup;
  items: (UsageFigures & { key: string })[];
  totals: UsageFigures;
  truncated: boolean;
}

export const operatorApi = {
  /** CPU-, wall- and GPU-hours of the executions that ended in [from, to), by group. */
  usage: (group: UsageGroup, from: string, to: string) =>
    request<UsageReport>('GET', `/usage${query({ group, from, to, limit: 1000 })}`),
  setNodeMemberships: (id: number, changes: { pools?: string[]; groups?: string[] }) =>
    request<DroverNode>('PATCH', `/nodes/${id}`, changes),
  /** Everything the job's executions used since it was made (the report's range ends now). */
  jobUsage: (jobId: number, since: string) =>
    request<{ totals: UsageFigures }>(
      'GET',
      `/usage${query({ group: 'job', job: jobId, from: since, limit: 1 })}`,
    ),
  nodeFailures: (jobId: number) =>
    request<{ items: NodeFailure[] }>('GET', `/jobs/${jobId}/node-failures?limit=1000`),
  clearNodeFailures: (jobId: number, nodeId?: number) =>
    request<{ unblocked: number }>(
      'DELETE',
      `/jobs/${jobId}/node-failures${query({ node: nodeId })}`,
    ),
  limits: () => request<{ items: Limit[] }>('GET', '/limits?limit=1000'),
  createLimit: (body: LimitInput) => request<Limit>('POST', '/limits', body),
  updateLimit: (name: string, body: LimitInput) =>
    request<Limit>('PATCH', `/limits/${encodeURIComponent(name)}`, body),
  deleteLimit: (name: string) => request<void>('DELETE', `/limits/${encodeURIComponent(name)}`),
  rules: () => request<{ items: NotificationRule[] }>('GET', '/notification-rules?limit=1000'),
  createRule: (body: RuleInput) =>
    request<NotificationRule & { secret: string | null }>('POST', '/notification-rules', body),
  updateRule: (id: number, body: RuleInput) =>
    request<NotificationRule>('PATCH', `/notification-rules/${id}`, body),
  deleteRule: (id: number) => request<void>('DELETE', `/notification-rules/${id}`),
};
