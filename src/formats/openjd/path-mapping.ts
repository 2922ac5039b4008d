/*
 * OpenJD path mapping (specification 2023-09, "How Jobs Are Run": Path Mapping), as
 * openjd-sessions applies it: a worker may be given rules that say where a path of the
 * submitting machine is found on it (`/mnt/projects` → `/data/projects`, `P:\` →
 * `/mnt/p`). The value of every PATH job or task parameter is mapped by them when it is
 * resolved as `{{Param.X}}` or `{{Task.Param.X}}` (`RawParam` stays as given): the rules
 * are tried in order of decreasing length of their source path, and the first whose source
 * path is a whole-component prefix of the value maps it. A POSIX source path is matched as
 * POSIX paths are (case-sensitive, `/` only); a WINDOWS one as Windows paths are
 * (case-insensitive, `\` and `/` alike). The rules are also written, in the document format
 * below, to `{{Session.PathMappingRulesFile}}` for applications that map paths themselves.
 * Pure: the worker reads the rules from --path-mapping-rules.
 */

import { checkPathMappingRule, type PathMappingRule } from '../../domain/path-mapping-rules.js';

export type { PathMappingRule } from '../../domain/path-mapping-rules.js';

export const PATH_MAPPING_VERSION = 'pathmapping-1.0';
export const MAX_PATH_MAPPING_RULES = 1000;
const MAX_PATH_LENGTH = 4096;

/** The rules of a `pathmapping-1.0` document; throws an Error saying what is wrong. */
export function readPathMappingRules(doc: unknown): PathMappingRule[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(
      `path mapping rules must be a JSON object {"version": "${PATH_MAPPING_VERSION}", "path_mapping_rules": [...]}`,
    );
  }
  const { version, path_mapping_rules: list, ...rest } = doc as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Error(`unknown field ${JSON.stringify(extra[0])}`);
  if (version !== PATH_MAPPING_VERSION) {
    throw new Error(`version must be "${PATH_MAPPING_VERSION}"`);
  }
  if (!Array.isArray(list)) throw new Error('path_mapping_rules must be a list');
  if (list.length > MAX_PATH_MAPPING_RULES) {
    throw new Error(`path_mapping_rules holds at most ${MAX_PATH_MAPPING_RULES} rules`);
  }
  return list.map((rule: unknown, i) =>
    checkPathMappingRule(rule, `path_mapping_rules[${i}]`, { maxPathLength: MAX_PATH_LENGTH }),
  );
}

/**
 * The rules file of a session, what `{{Session.PathMappingRulesFile}}` names: the rules in
 * the order given, or `{}` when there are none (as openjd-sessions writes it).
 */
export function pathMappingDocument(rules: readonly PathMappingRule[]): string {
  if (rules.length === 0) return '{}';
  return JSON.stringify({ version: PATH_MAPPING_VERSION, path_mapping_rules: rules });
}

/** A path's components as Python's PurePosixPath / PureWindowsPath make them. */
function partsOf(path: string, format: PathMappingRule['source_path_format']): string[] {
  if (format === 'POSIX') {
    const root = path.startsWith('/') ? ['/'] : [];
    return [...root, ...path.split('/').filter((p) => p !== '' && p !== '.')];
  }
  const unified = path.replace(/\//g, '\\');
  const drive = /^([A-Za-z]:\\?|\\\\[^\\]+\\[^\\]+\\?)/.exec(unified)?.[0] ?? '';
  const rest = unified
    .slice(drive.length)
    .split('\\')
    .filter((p) => p !== '' && p !== '.');
  return [...(drive ? [drive.replace(/\\?$/, '\\').toLowerCase()] : []), ...rest];
}

function sameComponent(a: string, b: string, format: PathMappingRule['source_path_format']) {
  return format === 'POSIX' ? a === b : a.toLowerCase() === b.toLowerCase();
}

/** The rules in the order they are tried: the longest source paths first. */
export function orderRules(rules: readonly PathMappingRule[]): PathMappingRule[] {
  return [...rules].sort(
    (a, b) =>
      partsOf(b.source_path, b.source_path_format).length -
      partsOf(a.source_path, a.source_path_format).length,
  );
}

/** A path mapped by the first rule (of rules ordered by orderRules) that matches it. */
export function mapPath(ordered: readonly PathMappingRule[], path: string): string {
  for (const rule of ordered) {
    const format = rule.source_path_format;
    const source = partsOf(rule.source_path, format);
    const parts = partsOf(path, format);
    if (parts.length < source.length) continue;
    if (!source.every((s, i) => sameComponent(s, parts[i]!, format))) continue;
    const rest = parts.slice(source.length);
    const destination = rule.destination_path;
    // The destination is a path of this worker, joined with its own separator.
    const separator =
      /^[A-Za-z]:|\\/.test(destination) && !destination.startsWith('/') ? '\\' : '/';
    let mapped = destination;
    // As Python's PurePath prints it: no trailing separator but on a root.
    while (mapped.length > 1 && mapped.endsWith(separator) && !/^[A-Za-z]:\\$/.test(mapped)) {
      mapped = mapped.slice(0, -1);
    }
    for (const part of rest) {
      mapped = mapped.endsWith(separator) ? mapped + part : mapped + separator + part;
    }
    const trailing = format === 'POSIX' ? path.endsWith('/') : /[\\/]$/.test(path);
    if (trailing && !mapped.endsWith(separator)) mapped += separator;
    return mapped;
  }
  return path;
}
