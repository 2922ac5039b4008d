import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { resolveFormatString } from './format-strings.js';
import { mapPath, orderRules, type PathMappingRule } from './path-mapping.js';
import type { Action, EmbeddedFile, Environment } from './template-scripts.js';

/*
 * How a worker runs one task of an OpenJD step (2023-09 §5-6, §7.3): the embedded files
 * are written into the session's working directory first, read-only for the worker's user
 * and executable when `runnable`; then the onRun action's command and args are resolved
 * with the job parameters (Param.*, RawParam.*), the task's own (Task.Param.*,
 * Task.RawParam.*), the files' paths (Task.File.*) and Session.*; Param.X and Task.Param.X
 * of a PATH parameter are mapped by the worker's path mapping rules (path-mapping.ts). The
 * session directory is the one of the worker's session for the step, which enters the
 * step's environments before its first task (openjd-environments.ts).
 * Pure apart from naming files: the worker does the writing.
 */

export const OPENJD_STEP_TYPE = 'openjd-step';

/** What a step job's `openjd` parameter holds: all a worker needs to run its tasks. */
export interface StepRun {
  step: string;
  onRun: Action;
  embeddedFiles: EmbeddedFile[];
  /** Param.X and RawParam.X of every job parameter. */
  symbols: Record<string, string>;
  /** The job's environments, entered first in a session; absent when none. */
  jobEnvironments?: Environment[];
  /** The step's own, entered after the job's. */
  stepEnvironments?: Environment[];
  /** The job parameters of type PATH: their Param.X is mapped by path mapping rules. */
  pathParameters?: string[];
  /** The step's task parameters of type PATH: their Task.Param.X is mapped too. */
  pathTaskParameters?: string[];
  /** REDACTED_ENV_VARS is among the template's extensions: openjd_redacted_env sets variables. */
  redactedEnv?: boolean;
}

export interface PreparedTask {
  argv: string[];
  files: { path: string; data: string; mode: number }[];
  /** Milliseconds between SIGTERM and SIGKILL when the task is canceled. */
  graceMs: number;
  /** NOTIFY_THEN_TERMINATE writes cancel_info.json before the first signal. */
  notify: boolean;
}

/** OpenJD's onRun notify period when the template gives none (§5.3.2). */
const DEFAULT_NOTIFY_SECONDS = 120;

/** The step's run from a work order's job parameters, if it is an OpenJD step. */
export function stepRunOf(parameters: Record<string, unknown>): StepRun | undefined {
  const run = parameters.openjd as StepRun | undefined;
  if (!run || typeof run !== 'object' || !run.onRun || typeof run.onRun.command !== 'string') {
    return undefined;
  }
  return run;
}

/** The job parameters and Session.* values: what every action of a session may name. */
export function sessionSymbols(
  run: StepRun,
  sessionDir: string,
  rules: readonly PathMappingRule[] = [],
): Map<string, string> {
  const symbols = new Map(Object.entries(run.symbols));
  if (rules.length > 0) {
    const ordered = orderRules(rules);
    for (const name of run.pathParameters ?? []) {
      const raw = run.symbols[`RawParam.${name}`];
      if (raw !== undefined) symbols.set(`Param.${name}`, mapPath(ordered, raw));
    }
  }
  symbols.set('Session.WorkingDirectory', sessionDir);
  symbols.set('Session.HasPathMappingRules', rules.length > 0 ? 'true' : 'false');
  symbols.set('Session.PathMappingRulesFile', pathMappingFile(sessionDir));
  return symbols;
}

/** Where a session's path mapping rules are written (Session.PathMappingRulesFile). */
export const pathMappingFile = (sessionDir: string): string =>
  join(sessionDir, 'path-mapping.json');

/** Whether tasks of this step run in a session that enters environments. */
export function hasEnvironments(run: StepRun): boolean {
  return (run.jobEnvironments?.length ?? 0) + (run.stepEnvironments?.length ?? 0) > 0;
}

export function prepareTask(
  run: StepRun,
  taskParameters: Record<string, string>,
  sessionDir: string,
  rules: readonly PathMappingRule[] = [],
): PreparedTask {
  const symbols = sessionSymbols(run, sessionDir, rules);
  const paths = new Set(rules.length > 0 ? (run.pathTaskParameters ?? []) : []);
  const ordered = paths.size > 0 ? orderRules(rules) : [];
  for (const [name, value] of Object.entries(taskParameters)) {
    symbols.set(`Task.Param.${name}`, paths.has(name) ? mapPath(ordered, value) : value);
    symbols.set(`Task.RawParam.${name}`, value);
  }
  const named = run.embeddedFiles.map((f) => ({
    file: f,
    path: join(sessionDir, f.filename ?? `${f.name}-${randomBytes(6).toString('hex')}`),
  }));
  for (const { file, path } of named) symbols.set(`Task.File.${file.name}`, path);
  const files = named.map(({ file, path }) => ({
    path,
    data: resolveFormatString(file.data, symbols),
    mode: file.runnable ? 0o500 : 0o400,
  }));
  const argv = [run.onRun.command, ...run.onRun.args].map((a) => resolveFormatString(a, symbols));
  const c = run.onRun.cancelation;
  const graceMs =
    c.mode === 'TERMINATE' ? 0 : (c.notifyPeriodInSeconds ?? DEFAULT_NOTIFY_SECONDS) * 1000;
  return { argv, files, graceMs, notify: c.mode === 'NOTIFY_THEN_TERMINATE' };
}

/** cancel_info.json (§5.3.2): when the notify period ends, in UTC to the second. */
export function cancelInfo(now: number, graceMs: number): string {
  const end = new Date(now + graceMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify({ NotifyEnd: end });
}
