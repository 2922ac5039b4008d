import { spawnSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import os from 'node:os';

/* What this machine offers, read once at start-up; every value can be overridden by a flag. */

export function detectCpus(): number {
  return os.availableParallelism();
}

/** MiB of memory. */
export function detectMem(): number {
  return Math.floor(os.totalmem() / 2 ** 20);
}

/** NVIDIA GPUs as `nvidia-smi -L` lists them; 0 when the tool is missing or fails. */
export function detectGpus(): number {
  try {
    const result = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
    if (result.status !== 0 || typeof result.stdout !== 'string') return 0;
    return result.stdout.split('\n').filter((line) => /^GPU \d+/.test(line)).length;
  } catch {
    return 0;
  }
}

/** Free MiB where tasks will run (the directory is created if needed). */
export function detectDisk(workDir: string): number {
  try {
    mkdirSync(workDir, { recursive: true });
    const stats = statfsSync(workDir);
    return Math.floor((Number(stats.bavail) * Number(stats.bsize)) / 2 ** 20);
  } catch {
    return 0;
  }
}

/** MiB of memory of the smallest NVIDIA GPU (amount.worker.gpu.memory); undefined without. */
export function detectGpuMemory(): number | undefined {
  try {
    const result = spawnSync(
      'nvidia-smi',
      ['--query-gpu=memory.total', '--format=csv,noheader,nounits'],
      { encoding: 'utf8', timeout: 5000 },
    );
    if (result.status !== 0 || typeof result.stdout !== 'string') return undefined;
    const sizes = result.stdout
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => Number.isFinite(n) && n > 0);
    return sizes.length > 0 ? Math.min(...sizes) : undefined;
  } catch {
    return undefined;
  }
}
