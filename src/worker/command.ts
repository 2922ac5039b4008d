import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { GPU_MEMORY, type HostCapabilities } from '../domain/host-capabilities.js';
import { readPathMappingRules, type PathMappingRule } from '../formats/openjd/path-mapping.js';
import { amountFlag, attributeFlag, workerCapabilities } from './capabilities.js';
import { detectCpus, detectDisk, detectGpuMemory, detectGpus, detectMem } from './machine.js';
import type { WorkerOptions } from './worker.js';

const number = (name: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`${name} must be a number >= 0, got "${raw}"`);
  }
  return n;
};
const wholeNumber = (name: string, min: number) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${raw}"`);
  }
  return n;
};
const commaList = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * --server, given once or more, each a URL or a comma list of them: the replicas to fail
 * over between, in order. A URL without a scheme means http.
 */
const serverList = (raw: string, previous: string[] | undefined): string[] => {
  const urls = commaList(raw).map((entry) => {
    const url = entry.includes('://') ? entry : `http://${entry}`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InvalidArgumentError(`"${entry}" is not a server URL (like http://host:8080)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidArgumentError(`"${entry}": a server URL is http:// or https://`);
    }
    return url.replace(/\/+$/, '');
  });
  if (urls.length === 0) throw new InvalidArgumentError('--server needs at least one URL');
  // The same replica twice would only make a fail-over land where it failed.
  return [...new Set([...(previous ?? []), ...urls])];
};

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** --path-mapping-rules FILE: a `pathmapping-1.0` JSON document, read once at start. */
const pathMappingRules = (raw: string): PathMappingRule[] => {
  const file = raw.startsWith('file://') ? raw.slice('file://'.length) : raw;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return readPathMappingRules(JSON.parse(text));
  } catch (error) {
    throw new InvalidArgumentError(`${file}: ${(error as Error).message}`);
  }
};

interface Flags {
  server?: string[];
  token?: string;
  name: string;
  pools: string[];
  groups: string[];
  cpus?: number;
  mem?: number;
  gpus?: number;
  disk?: number;
  slots: number;
  workDir: string;
  killGrace: number;
  cgroup: string;
  pollSeconds: number;
  heartbeatSeconds: number;
  telemetrySeconds: number;
  pathMappingRules?: PathMappingRule[];
  attribute?: Record<string, string[]>;
  amount?: Record<string, number>;
}

/** The capabilities as the start-up line shows them: attr.worker.os.family=linux, … */
function capabilityText(c: HostCapabilities): string {
  const all = [
    ...Object.entries(c.attributes).map(([n, v]) => `${n}=${v.join(',')}`),
    ...Object.entries(c.amounts).map(([n, v]) => `${n}=${v}`),
  ];
  return all.length > 0 ? `, ${all.join(' ')}` : '';
}

/** `drover worker`: registers this machine as a node and runs tasks. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run tasks from a Drover server on this machine (a worker node)')
    .addOption(
      new Option(
        '--server <url>',
        `the Drover server; repeat it or give a comma list for replicas to fail over between (default: ${DEFAULT_SERVER})`,
      )
        .env('DROVER_SERVER')
        .argParser(serverList),
    )
    .addOption(
      new Option('--token <token>', 'API token (role node) when auth is on').env('DROVER_TOKEN'),
    )
    .addOption(
      new Option('--name <name>', 'node name; the same name keeps the same node')
        .env('DROVER_WORKER_NAME')
        .default(os.hostname()),
    )
    .addOption(
      new Option('--pools <list>', 'comma list of pools this node serves')
        .env('DROVER_POOLS')
        .argParser(commaList)
        .default([]),
    )
    .addOption(
      new Option('--groups <list>', 'comma list of groups this node belongs to')
        .env('DROVER_GROUPS')
        .argParser(commaList)
        .default([]),
    )
    .addOption(
      new Option('--cpus <n>', "CPUs offered (default: this machine's)")
        .env('DROVER_CPUS')
        .argParser(number('cpus')),
    )
    .addOption(
      new Option('--mem <mib>', 'memory offered, MiB (default: all of it)')
        .env('DROVER_MEM')
        .argParser(number('mem')),
    )
    .addOption(
      new Option('--gpus <n>', 'GPUs offered (default: what nvidia-smi lists, else 0)')
        .env('DROVER_GPUS')
        .argParser(number('gpus')),
    )
    .addOption(
      new Option('--disk <mib>', 'disk offered, MiB (default: free space of the work dir)')
        .env('DROVER_DISK')
        .argParser(number('disk')),
    )
    .addOption(
      new Option('--slots <n>', 'tasks run at once')
        .env('DROVER_SLOTS')
        .argParser(wholeNumber('slots', 1))
        .default(1),
    )
    .addOption(
      new Option('--work-dir <path>', 'where tasks run and write their outputs')
        .env('DROVER_WORK_DIR')
        .default('./drover-work'),
    )
    .addOption(
      new Option('--kill-grace <seconds>', 'between SIGTERM and SIGKILL when a task is stopped')
        .env('DROVER_KILL_GRACE')
        .argParser(number('kill-grace'))
        .default(5),
    )
    .addOption(
      new Option(
        '--cgroup <where>',
        "a cgroup v2 per task under the worker's own cgroup (auto), none (off), or under this directory",
      )
        .env('DROVER_CGROUP')
        .default('auto'),
    )
    .addOption(
      new Option('--poll-seconds <n>', 'how long one wait for work lasts on the server (long-poll)')
        .env('DROVER_POLL_SECONDS')
        .argParser(wholeNumber('poll-seconds', 1))
        .default(30),
    )
    .addOption(
      new Option('--heartbeat-seconds <n>', 'heartbeat period while idle (1 s while tasks run)')
        .env('DROVER_HEARTBEAT_SECONDS')
        .argParser(number('heartbeat-seconds'))
        .default(5),
    )
    .addOption(
      new Option(
        '--telemetry-seconds <n>',
        "how often the machine's CPU, memory, load, disk and GPU use go to the server (0: never; at least 5)",
      )
        .env('DROVER_TELEMETRY_SECONDS')
        .argParser(number('telemetry-seconds'))
        .default(10),
    )
    .addOption(
      new Option(
        '--path-mapping-rules <file>',
        "OpenJD path mapping rules (a pathmapping-1.0 JSON file) applied to the PATH parameters of OpenJD jobs, after the rules of the job's pool that the server sends (drover pool path-mapping): a rule here for the same source path replaces the pool's, the others are added",
      )
        .env('DROVER_PATH_MAPPING_RULES')
        .argParser(pathMappingRules),
    )
    .addOption(
      new Option(
        '--attribute <name=values>',
        'an OpenJD attribute this node has, for host requirements: NAME=VALUE[,VALUE...], e.g. attr.site=render; repeatable. attr.worker.os.family and attr.worker.cpu.arch come from the machine unless given ($DROVER_ATTRIBUTES: several separated by ;)',
      )
        .env('DROVER_ATTRIBUTES')
        .argParser(attributeFlag),
    )
    .addOption(
      new Option(
        '--amount <name=number>',
        'an OpenJD amount this node has, for host requirements: NAME=NUMBER, e.g. amount.worker.gpu.memory=8192 (MiB; detected from nvidia-smi unless given); repeatable ($DROVER_AMOUNTS: several separated by ;)',
      )
        .env('DROVER_AMOUNTS')
        .argParser(amountFlag),
    )
    .action(async (flags: Flags) => {
      const workDir = resolve(flags.workDir);
      const gpus = flags.gpus ?? detectGpus();
      let capabilities: HostCapabilities;
      try {
        capabilities = workerCapabilities({
          platform: process.platform,
          arch: process.arch,
          gpuMemory:
            gpus > 0 && flags.amount?.[GPU_MEMORY] === undefined ? detectGpuMemory() : undefined,
          attributes: flags.attribute ?? {},
          amounts: flags.amount ?? {},
        });
      } catch (error) {
        process.stderr.write(`drover worker: ${(error as Error).message}\n`);
        process.exit(2);
      }
      const log = (message: string): void => {
        process.stdout.write(`${new Date().toISOString()} worker ${flags.name}: ${message}\n`);
      };
      const options: WorkerOptions = {
        servers: flags.server ?? [DEFAULT_SERVER],
        token: flags.token,
        name: flags.name,
        pools: flags.pools,
        groups: flags.groups,
        cpus: flags.cpus ?? detectCpus(),
        mem: flags.mem ?? detectMem(),
        gpus,
        capabilities,
        disk: flags.disk ?? detectDisk(workDir),
        slots: flags.slots,
        workDir,
        killGraceMs: flags.killGrace * 1000,
        cgroup: flags.cgroup,
        pollSeconds: Math.min(flags.pollSeconds, 60),
        busyHeartbeatMs: Math.min(1000, flags.heartbeatSeconds * 1000),
        idleHeartbeatMs: Math.max(flags.heartbeatSeconds * 1000, 100),
        telemetryMs: flags.telemetrySeconds > 0 ? Math.max(flags.telemetrySeconds, 5) * 1000 : 0,
        pathMappingRules: flags.pathMappingRules ?? [],
        log,
      };
      // Loaded here, not at the top: see the note on lazy imports in src/cli/main.ts.
      const { Worker } = await import('./worker.js');
      const worker = new Worker(options);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          log(`${signal} again: exiting now`);
          process.exit(1);
        }
        stopping = true;
        log(`${signal}: stopping (running tasks are killed and given back)`);
        worker.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      log(
        `starting: server ${options.servers.join(', ')}, work dir ${workDir}, cpus ${options.cpus}, mem ${options.mem} MiB, gpus ${options.gpus}, disk ${options.disk} MiB${capabilityText(capabilities)}${flags.pathMappingRules?.length ? `, ${flags.pathMappingRules.length} path mapping rule(s)` : ''}`,
      );
      await worker.start();
      // The loops run until a signal stops the worker.
    });
}
