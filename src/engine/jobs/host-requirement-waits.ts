import {
  describeRequirement,
  meetsRequirement,
  parseHostCapabilities,
  parseHostRequirement,
  unmetRequirement,
  type HostRequirement,
} from '../../domain/host-capabilities.js';
import type { JobRow, NodeRow } from '../../store/schema.js';

/*
 * Why no node (or this node) meets a job's host requirement (migration 0045), for the
 * waiting reasons of a job and the idle reasons of a node. The claim's own test is in SQL;
 * these read the same rule (domain/host-capabilities.ts) over the few online nodes.
 */

const capsOf = (n: NodeRow) => parseHostCapabilities(n.host_caps);

/** The nodes among `nodes` that meet the job's requirement (all of them without one). */
export function meetingRequirement(job: JobRow, nodes: NodeRow[]): NodeRow[] {
  const req = parseHostRequirement(job.req_host);
  return req ? nodes.filter((n) => meetsRequirement(req, capsOf(n), n)) : nodes;
}

/**
 * Why none of `nodes` meets it: the first requirement none of them meets on its own
 * (`no enabled node has attr.worker.os.family in [windows]`), else that none meets all.
 */
export function noNodeMeets(job: JobRow, nodes: NodeRow[]): string {
  const req = parseHostRequirement(job.req_host)!;
  const parts: HostRequirement[] = [
    ...req.attributes.map((a) => ({ attributes: [a], amounts: [] })),
    ...req.amounts.map((m) => ({ attributes: [], amounts: [m] })),
  ];
  const unmet = parts.find((p) => !nodes.some((n) => meetsRequirement(p, capsOf(n), n)));
  if (unmet) return `no enabled node has ${describeRequirement(unmet)}`;
  return `no enabled node meets all of its host requirements (${describeRequirement(req)})`;
}

/** Why this node does not meet the job's requirement, if it does not. */
export function nodeMisses(job: JobRow, node: NodeRow): string | undefined {
  const req = parseHostRequirement(job.req_host);
  const why = req ? unmetRequirement(req, capsOf(node), node) : undefined;
  return why && `the job requires ${describeRequirement(req!)}; the node ${why}`;
}
