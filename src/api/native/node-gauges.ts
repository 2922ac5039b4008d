import type { NodeTelemetry } from '../../domain/node-telemetry.js';
import { escape } from '../http-metrics.js';

/*
 * Gauges of each reporting node's latest telemetry, labelled by node name (and GPU index):
 * as many series as nodes, capped by the caller's read. A figure the node did not report
 * has no sample; nothing is invented.
 */

/** Nodes shown by name; a larger farm's other nodes are left out (see the HELP text). */
export const MAX_NODE_SERIES = 1000;

type Gauge = [name: string, help: string, read: (t: NodeTelemetry) => number | undefined];

const GAUGES: Gauge[] = [
  ['drover_node_cpu_percent', 'CPU use of the whole machine, percent', (t) => t.cpuPercent],
  ['drover_node_memory_used_bytes', 'Memory in use', (t) => t.memUsedBytes],
  ['drover_node_memory_total_bytes', 'Memory of the machine', (t) => t.memTotalBytes],
  ['drover_node_load1', 'Load average over a minute', (t) => t.load1],
  [
    'drover_node_disk_free_bytes',
    "Free space of the worker's work directory",
    (t) => t.diskFreeBytes,
  ],
];

const GPU_GAUGES: [
  string,
  string,
  (g: NonNullable<NodeTelemetry['gpus']>[number]) => number | undefined,
][] = [
  [
    'drover_node_gpu_utilization_percent',
    'GPU use, percent (nvidia-smi)',
    (g) => g.utilizationPercent,
  ],
  ['drover_node_gpu_memory_used_bytes', 'GPU memory in use (nvidia-smi)', (g) => g.memUsedBytes],
  ['drover_node_gpu_memory_total_bytes', 'GPU memory (nvidia-smi)', (g) => g.memTotalBytes],
];

export function nodeGauges(nodes: readonly { name: string; telemetry_json: string }[]): string[] {
  const parsed = nodes.map((n) => ({
    node: escape(n.name),
    t: JSON.parse(n.telemetry_json) as NodeTelemetry,
  }));
  const scope = `latest report of each ONLINE node, at most ${MAX_NODE_SERIES} nodes by name`;
  const lines: string[] = [];
  for (const [name, help, read] of GAUGES) {
    lines.push(`# HELP ${name} ${help}; ${scope}.`, `# TYPE ${name} gauge`);
    for (const { node, t } of parsed) {
      const v = read(t);
      if (v !== undefined) lines.push(`${name}{node="${node}"} ${v}`);
    }
  }
  for (const [name, help, read] of GPU_GAUGES) {
    lines.push(`# HELP ${name} ${help}; ${scope}.`, `# TYPE ${name} gauge`);
    for (const { node, t } of parsed) {
      for (const g of t.gpus ?? []) {
        const v = read(g);
        if (v !== undefined) lines.push(`${name}{node="${node}",gpu="${g.index}"} ${v}`);
      }
    }
  }
  return lines;
}
