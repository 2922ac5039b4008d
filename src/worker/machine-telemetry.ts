import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { GpuTelemetry, NodeTelemetry } from '../domain/node-telemetry.js';
import { VERSION } from '../domain/version.js';

/*
 * What the worker says about its machine with its heartbeat (node telemetry): CPU use since
 * the last reading, memory, load, the free space of its work directory, the GPUs that
 * nvidia-smi lists, uptime, and its version. A figure that cannot be read is left out:
 * a machine without nvidia-smi reports no GPUs, not zero of them.
 */

export class MachineTelemetry {
  private cpus = cpuTimes();
  /** False once nvidia-smi was found missing: not looked for again. */
  private nvidiaSmi = true;

  constructor(
    private readonly workDir: string,
    private readonly nvidiaSmiPath = 'nvidia-smi',
  ) {}

  async read(): Promise<NodeTelemetry> {
    const t: NodeTelemetry = { uptimeSeconds: Math.round(os.uptime()), version: VERSION };
    const now = cpuTimes();
    const busy = now.busy - this.cpus.busy;
    const total = now.total - this.cpus.total;
    this.cpus = now;
    if (total > 0) t.cpuPercent = round(Math.min(100, Math.max(0, (busy / total) * 100)));
    Object.assign(t, memory());
    if (process.platform !== 'win32') {
      const [load1, load5, load15] = os.loadavg().map(round);
      Object.assign(t, { load1, load5, load15 });
    }
    try {
      const fs = await statfs(this.workDir);
      t.diskFreeBytes = Number(fs.bavail) * Number(fs.bsize);
      t.diskTotalBytes = Number(fs.blocks) * Number(fs.bsize);
    } catch {
      // the work directory is gone or unreadable: no disk figure
    }
    const gpus = this.nvidiaSmi ? await this.gpus() : undefined;
    if (gpus) t.gpus = gpus;
    return t;
  }

  /** The GPUs as nvidia-smi reports them; undefined where it is missing or fails. */
  private gpus(): Promise<GpuTelemetry[] | undefined> {
    const query = 'index,name,utilization.gpu,memory.used,memory.total';
    return new Promise((resolve) => {
      execFile(
        this.nvidiaSmiPath,
        [`--query-gpu=${query}`, '--format=csv,noheader,nounits'],
        { timeout: 5000, encoding: 'utf8' },
        (error, stdout) => {
          if (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.nvidiaSmi = false;
            resolve(undefined);
            return;
          }
          const gpus = parseNvidiaSmi(stdout);
          resolve(gpus.length > 0 ? gpus : undefined);
        },
      );
    });
  }
}

/**
 * nvidia-smi's CSV (`0, NVIDIA A100, 37, 1024, 40960`: utilisation in %, memory in MiB);
 * a field it cannot read ("[N/A]", "[Not Supported]") is left out.
 */
export function parseNvidiaSmi(csv: string): GpuTelemetry[] {
  const gpus: GpuTelemetry[] = [];
  for (const line of csv.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 5) continue;
    const [index, name, util, used, total] = fields;
    const n = (text: string | undefined): number | undefined => {
      const value = Number(text);
      return text && /^\d+(\.\d+)?$/.test(text) && Number.isFinite(value) ? value : undefined;
    };
    const i = n(index);
    if (i === undefined || !Number.isInteger(i) || i > 63) continue;
    const gpu: GpuTelemetry = { index: i };
    if (name) gpu.name = name.slice(0, 128);
    const u = n(util);
    if (u !== undefined && u <= 100) gpu.utilizationPercent = u;
    const mUsed = n(used);
    const mTotal = n(total);
    if (mUsed !== undefined) gpu.memUsedBytes = Math.round(mUsed * 2 ** 20);
    if (mTotal !== undefined) gpu.memTotalBytes = Math.round(mTotal * 2 ** 20);
    if (
      gpu.memUsedBytes !== undefined &&
      gpu.memTotalBytes !== undefined &&
      gpu.memUsedBytes > gpu.memTotalBytes
    ) {
      delete gpu.memUsedBytes;
    }
    gpus.push(gpu);
    if (gpus.length === 64) break;
  }
  return gpus;
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** Used = total less available (Linux's MemAvailable: what could be had without swapping). */
function memory(): Pick<NodeTelemetry, 'memUsedBytes' | 'memTotalBytes'> {
  const total = os.totalmem();
  let available = os.freemem();
  try {
    const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kib !== undefined) available = Number(kib) * 1024;
  } catch {
    // not Linux: os.freemem() is the best there is
  }
  return { memTotalBytes: total, memUsedBytes: Math.max(0, Math.min(total, total - available)) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
