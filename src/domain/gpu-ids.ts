/*
 * A node's GPUs are numbered 0 to gpus-1; an execution of a job asking gpus holds some of
 * them, stored as '0,2' ('' for none: executions.gpu_ids, migration 0035).
 */

export function parseGpuIds(text: string): number[] {
  return text === '' ? [] : text.split(',').map(Number);
}

/**
 * The environment that shows a task only its own GPUs: CUDA for NVIDIA, ROCm and HIP for
 * AMD. A task given none sees the variables unchanged (a job that asks no gpus is not
 * placed by them).
 */
export function gpuEnvironment(ids: readonly number[]): Record<string, string> {
  const list = ids.join(',');
  return { CUDA_VISIBLE_DEVICES: list, ROCR_VISIBLE_DEVICES: list, HIP_VISIBLE_DEVICES: list };
}
