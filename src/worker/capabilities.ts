import { InvalidArgumentError } from 'commander';
import {
  checkCapabilities,
  CPU_ARCH,
  GPU_MEMORY,
  OS_FAMILY,
  type HostCapabilities,
} from '../domain/host-capabilities.js';

/*
 * What the worker reports of itself as OpenJD capabilities (docs/openjd.md#host-requirements),
 * as a Deadline Cloud worker agent does: attr.worker.os.family and attr.worker.cpu.arch from
 * the machine, amount.worker.gpu.memory when it knows it, and the custom ones its
 * configuration names (--attribute, --amount; the agent's `capabilities.attributes` and
 * `capabilities.amounts`), which replace a detected one of the same name.
 */

const OS_FAMILIES: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'linux',
  win32: 'windows',
  darwin: 'macos',
};
const CPU_ARCHES: Partial<Record<string, string>> = { x64: 'x86_64', arm64: 'arm64' };

/** This machine's standard attributes; one the specification has no value for is left out. */
export function machineAttributes(
  platform: NodeJS.Platform,
  arch: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const family = OS_FAMILIES[platform];
  const cpu = CPU_ARCHES[arch];
  if (family) out[OS_FAMILY] = [family];
  if (cpu) out[CPU_ARCH] = [cpu];
  return out;
}

/** One `NAME=VALUE[,VALUE...]` (`--attribute`), or several separated by `;` (its env). */
export function attributeFlag(
  raw: string,
  previous: Record<string, string[]> | undefined,
): Record<string, string[]> {
  const out = { ...previous };
  for (const entry of raw.split(';').filter((e) => e.trim())) {
    const [name, values] = pair(entry, 'attribute', 'attr.site=render,gpu');
    out[name] = values
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  }
  return out;
}

/** One `NAME=NUMBER` (`--amount`), or several separated by `;` (its env). */
export function amountFlag(
  raw: string,
  previous: Record<string, number> | undefined,
): Record<string, number> {
  const out = { ...previous };
  for (const entry of raw.split(';').filter((e) => e.trim())) {
    const [name, value] = pair(entry, 'amount', 'amount.worker.gpu.memory=8192');
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`--amount ${name}: "${value}" is not a number >= 0`);
    }
    out[name] = n;
  }
  return out;
}

function pair(entry: string, flag: string, example: string): [string, string] {
  const at = entry.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--${flag} takes NAME=VALUE (${example})`);
  return [entry.slice(0, at).trim(), entry.slice(at + 1)];
}

/**
 * The capabilities to register with, checked as the server checks them so that a mistake
 * stops the worker at start rather than at every registration.
 */
export function workerCapabilities(options: {
  platform: NodeJS.Platform;
  arch: string;
  gpuMemory: number | undefined;
  attributes: Record<string, string[]>;
  amounts: Record<string, number>;
}): HostCapabilities {
  const attributes = {
    ...machineAttributes(options.platform, options.arch),
    ...options.attributes,
  };
  const amounts = {
    ...(options.gpuMemory !== undefined ? { [GPU_MEMORY]: options.gpuMemory } : {}),
    ...options.amounts,
  };
  try {
    return checkCapabilities({ attributes, amounts }, 'capabilities');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
