import { invalid } from './errors.js';
import type { Bound } from './job-bounds.js';

/*
 * What a worker says about its machine with its heartbeat, every few seconds: whole-machine
 * figures, each optional (a worker leaves out what it cannot read; GPUs only where
 * nvidia-smi answers, never invented).
 */
export interface GpuTelemetry {
  index: number;
  name?: string;
  utilizationPercent?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
}

export interface NodeTelemetry {
  cpuPercent?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  load1?: number;
  load5?: number;
  load15?: number;
  diskFreeBytes?: number;
  diskTotalBytes?: number;
  gpus?: GpuTelemetry[];
  /** The machine's. */
  uptimeSeconds?: number;
  /** The worker's own version. */
  version?: string;
}

/** Bytes a machine may have: 2^50 (a PiB) of memory, 2^53 - 1 of disk. */
const MEMORY = { minimum: 0, maximum: 2 ** 50 };
const DISK = { minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const LOAD = { minimum: 0, maximum: 1e6 };

export const TELEMETRY_BOUNDS = {
  cpuPercent: { minimum: 0, maximum: 100 },
  memUsedBytes: MEMORY,
  memTotalBytes: MEMORY,
  load1: LOAD,
  load5: LOAD,
  load15: LOAD,
  diskFreeBytes: DISK,
  diskTotalBytes: DISK,
  // Ten thousand years.
  uptimeSeconds: { minimum: 0, maximum: 3e11 },
  gpuIndex: { minimum: 0, maximum: 63 },
  gpuPercent: { minimum: 0, maximum: 100 },
} as const satisfies Record<string, Bound>;

export const MAX_GPUS = 64;
export const MAX_GPU_NAME = 128;
export const MAX_VERSION = 64;

/**
 * A node reports telemetry at most this often: more often, its heartbeat still counts and
 * the figures are dropped (the history's finest step is 10 s).
 */
export const MIN_TELEMETRY_INTERVAL_MS = 5_000;

/** What the schema cannot say: a part is not larger than its whole, GPU indexes differ. */
export function checkTelemetry(t: NodeTelemetry): void {
  if (t.memUsedBytes !== undefined && t.memTotalBytes !== undefined) {
    if (t.memUsedBytes > t.memTotalBytes) {
      throw invalid(
        `telemetry.memUsedBytes (${t.memUsedBytes}) is more than memTotalBytes (${t.memTotalBytes})`,
      );
    }
  }
  if (t.diskFreeBytes !== undefined && t.diskTotalBytes !== undefined) {
    if (t.diskFreeBytes > t.diskTotalBytes) {
      throw invalid(
        `telemetry.diskFreeBytes (${t.diskFreeBytes}) is more than diskTotalBytes (${t.diskTotalBytes})`,
      );
    }
  }
  const seen = new Set<number>();
  for (const gpu of t.gpus ?? []) {
    if (seen.has(gpu.index)) throw invalid(`telemetry.gpus lists GPU ${gpu.index} twice`);
    seen.add(gpu.index);
    if (
      gpu.memUsedBytes !== undefined &&
      gpu.memTotalBytes !== undefined &&
      gpu.memUsedBytes > gpu.memTotalBytes
    ) {
      throw invalid(`telemetry.gpus[${gpu.index}].memUsedBytes is more than its memTotalBytes`);
    }
  }
}

/** One point of the history: the figures a chart draws, averaged over a step. */
export interface TelemetryPoint {
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  load1: number | null;
  diskFreeBytes: number | null;
  /** Mean utilisation over the node's GPUs; null without GPUs. */
  gpuPercent: number | null;
  /** Summed over the node's GPUs. */
  gpuMemUsedBytes: number | null;
}

export function telemetryPoint(t: NodeTelemetry): TelemetryPoint {
  const gpus = t.gpus ?? [];
  const utils = gpus.flatMap((g) =>
    g.utilizationPercent !== undefined ? [g.utilizationPercent] : [],
  );
  const mems = gpus.flatMap((g) => (g.memUsedBytes !== undefined ? [g.memUsedBytes] : []));
  return {
    cpuPercent: t.cpuPercent ?? null,
    memUsedBytes: t.memUsedBytes ?? null,
    memTotalBytes: t.memTotalBytes ?? null,
    load1: t.load1 ?? null,
    diskFreeBytes: t.diskFreeBytes ?? null,
    gpuPercent: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
    gpuMemUsedBytes: mems.length ? mems.reduce((a, b) => a + b, 0) : null,
  };
}

/** The history's steps and how long each is kept: 10 s for a day, 5 min for 90 days. */
export const TELEMETRY_STEPS = [
  { stepS: 10, keepMs: 24 * 3600_000 },
  { stepS: 300, keepMs: 90 * 24 * 3600_000 },
] as const;
