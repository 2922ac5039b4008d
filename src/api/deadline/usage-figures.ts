/*
 * Deadline's usage statistics (reference §4: RamPeak, RamPeakPer, Cpu; task reports'
 * AverageCpu, PeakRam) from what the node measured at the command's end (cpu_seconds,
 * wall_seconds, peak_memory_bytes), the numbers /api/v1/usage sums. Deadline reports CPU
 * as a share of the whole machine, so CPU time is divided by wall time and the node's CPUs.
 * What Drover does not measure (average RAM, swap, peak CPU, CPU clock cycles) stays 0.
 */

export interface MeasuredRun {
  cpu_seconds: number | null;
  wall_seconds: number | null;
  peak_memory_bytes: number | null;
  started_at: number | null;
  ended_at: number | null;
}

/** The node's size: `cpus`, and memory in MiB as nodes register it. */
export interface NodeSize {
  cpus: number | null;
  mem: number | null;
}

/** Wall seconds: as measured, else the start to the end (as /api/v1/usage counts it). */
export function wallSecondsOf(run: MeasuredRun): number | null {
  if (run.wall_seconds !== null) return run.wall_seconds;
  if (run.started_at === null || run.ended_at === null) return null;
  return Math.max(0, (run.ended_at - run.started_at) / 1000);
}

const oneDecimal = (n: number): number => Math.round(n * 10) / 10;

/** Average CPU use of the machine while it ran, percent; 0 when unmeasured. */
export function cpuPercentOf(run: MeasuredRun, node: NodeSize): number {
  const wall = wallSecondsOf(run);
  if (run.cpu_seconds === null || !wall) return 0;
  const cpus = node.cpus && node.cpus > 0 ? node.cpus : 1;
  return oneDecimal(Math.min(100, (100 * run.cpu_seconds) / (wall * cpus)));
}

/** Peak memory as a percent of the node's; 0 when either is unknown. */
export function ramPeakPercentOf(run: MeasuredRun, node: NodeSize): number {
  if (run.peak_memory_bytes === null || !node.mem) return 0;
  return oneDecimal(Math.min(100, (100 * run.peak_memory_bytes) / (node.mem * 2 ** 20)));
}

/** The figures a task and a task report show. */
export function usageFields(run: MeasuredRun | null, node: NodeSize) {
  if (!run) return { ramPeak: 0, ramPeakPer: 0, cpu: 0 };
  return {
    ramPeak: run.peak_memory_bytes ?? 0,
    ramPeakPer: ramPeakPercentOf(run, node),
    cpu: cpuPercentOf(run, node),
  };
}
