import type { Bound } from './job-bounds.js';

/*
 * What an execution used, as its node measured it when the command ended: CPU time (user +
 * system, of every process of the task), wall time, peak resident memory, and GPU time where
 * the node can tell. Each is absent when the node could not measure it, never guessed.
 */
export interface ExecutionUsage {
  cpuSeconds?: number;
  wallSeconds?: number;
  peakMemoryBytes?: number;
  gpuSeconds?: number;
}

/**
 * The ranges a report may carry. 10^8 s is over three years: more than any lease lets a
 * task run, so a larger figure is a broken meter, not a long task. 2^50 bytes is a PiB.
 */
export const USAGE_BOUNDS = {
  cpuSeconds: { minimum: 0, maximum: 1e8 },
  wallSeconds: { minimum: 0, maximum: 1e8 },
  peakMemoryBytes: { minimum: 0, maximum: 2 ** 50 },
  gpuSeconds: { minimum: 0, maximum: 1e8 },
} as const satisfies Record<keyof ExecutionUsage, Bound>;

/** The execution row's columns for a usage report (null where nothing was measured). */
export interface ExecutionUsageColumns {
  cpu_seconds: number | null;
  wall_seconds: number | null;
  peak_memory_bytes: number | null;
  gpu_seconds: number | null;
}

export function usageColumns(usage: ExecutionUsage | undefined): ExecutionUsageColumns {
  return {
    cpu_seconds: usage?.cpuSeconds ?? null,
    wall_seconds: usage?.wallSeconds ?? null,
    peak_memory_bytes: usage?.peakMemoryBytes ?? null,
    gpu_seconds: usage?.gpuSeconds ?? null,
  };
}
