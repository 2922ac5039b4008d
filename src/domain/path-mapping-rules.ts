/*
 * The rule of OpenJD path mapping (`pathmapping-1.0`): where a path of the submitting
 * machine is found on the machine that runs the task. The worker reads rules from its own
 * file (--path-mapping-rules) and is given the rules a pool holds on the server (a pool's
 * nodes share one OS and filesystem layout, as the hosts of one Deadline Cloud storage
 * profile do); formats/openjd/path-mapping.ts applies them. Pure.
 */

export const PATH_MAPPING_FORMATS = ['POSIX', 'WINDOWS'] as const;
export type PathFormat = (typeof PATH_MAPPING_FORMATS)[number];
export const PATH_MAPPING_RULE_KEYS = ['source_path_format', 'source_path', 'destination_path'];

export interface PathMappingRule {
  source_path_format: PathFormat;
  source_path: string;
  destination_path: string;
}

/** Bounds of a rule: a worker's file may hold longer paths than a pool on the server. */
export interface RuleBounds {
  maxPathLength: number;
  /** The destination must be absolute too (a pool's rules: a wrong one maps nothing). */
  absoluteDestination?: boolean;
}

// Paths are written to files and command lines: a control character there is always a mistake.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function isAbsoluteWindows(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.test(path);
}

/** Checks one rule (`where` names it in the message); throws an Error saying what is wrong. */
export function checkPathMappingRule(
  rule: unknown,
  where: string,
  bounds: RuleBounds,
): PathMappingRule {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new Error(`${where} must be an object with ${PATH_MAPPING_RULE_KEYS.join(', ')}`);
  }
  const r = rule as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!PATH_MAPPING_RULE_KEYS.includes(key)) {
      throw new Error(`${where}: unknown field ${JSON.stringify(key)}`);
    }
  }
  const format = typeof r.source_path_format === 'string' ? r.source_path_format.toUpperCase() : '';
  if (!(PATH_MAPPING_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`${where}.source_path_format must be POSIX or WINDOWS`);
  }
  for (const key of ['source_path', 'destination_path'] as const) {
    const v = r[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > bounds.maxPathLength) {
      throw new Error(`${where}.${key} must be a path of 1 to ${bounds.maxPathLength} characters`);
    }
    if (bounds.absoluteDestination && CONTROL.test(v)) {
      throw new Error(`${where}.${key} must not hold control characters`);
    }
  }
  const source = r.source_path as string;
  if (format === 'POSIX' ? !source.startsWith('/') : !isAbsoluteWindows(source)) {
    throw new Error(`${where}.source_path must be an absolute ${format} path, got "${source}"`);
  }
  const destination = r.destination_path as string;
  if (
    bounds.absoluteDestination &&
    !destination.startsWith('/') &&
    !isAbsoluteWindows(destination)
  ) {
    throw new Error(
      `${where}.destination_path must be an absolute path of the pool's nodes (/… or C:\\…), got "${destination}"`,
    );
  }
  return {
    source_path_format: format as PathFormat,
    source_path: source,
    destination_path: destination,
  };
}

/**
 * What a source path matches, to tell two rules for the same place apart: Windows paths
 * are case-insensitive and take `/` for `\`, and neither kind minds a trailing separator.
 */
export function sourceKey(rule: PathMappingRule): string {
  if (rule.source_path_format === 'POSIX') {
    return `POSIX:${rule.source_path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1')}`;
  }
  const unified = rule.source_path.replace(/\//g, '\\').toLowerCase();
  return `WINDOWS:${unified.replace(/(.)\\+$/, '$1').replace(/^([a-z]:)$/, '$1\\')}`;
}

/**
 * The rules a task runs with: its pool's rules from the server, then the worker's own file's.
 * A rule of the file for the same source path as a pool's replaces the pool's (the machine
 * knows its own mounts best); the others are added. Which rule maps a path is then decided as
 * always, the longest source path first (path-mapping.ts), so the order only matters between
 * rules of equal length.
 */
export function mergePathMappingRules(
  server: readonly PathMappingRule[],
  local: readonly PathMappingRule[],
): PathMappingRule[] {
  if (server.length === 0) return [...local];
  const overridden = new Set(local.map(sourceKey));
  return [...server.filter((r) => !overridden.has(sourceKey(r))), ...local];
}
