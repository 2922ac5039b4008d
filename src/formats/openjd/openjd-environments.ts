import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { resolveFormatString } from './format-strings.js';
import { sessionSymbols, type StepRun } from './openjd-run.js';
import type { PathMappingRule } from './path-mapping.js';
import type { Action, Environment } from './template-scripts.js';

/*
 * How a worker enters and exits an OpenJD environment (2023-09 §4, as openjd-sessions does
 * it): the environment's `variables` are resolved and set first, so that its own onEnter
 * sees them; its embedded files are written into the session directory when it is entered
 * and keep their paths (Env.File.X) for its onExit. A session enters the job's environments,
 * then the step's, in the template's order, and exits them in reverse; moving to a task of
 * another step of the job, it exits the step's and enters the other step's, the job's staying. Pure apart from
 * naming files: the worker does the writing and the running (src/worker/openjd-session.ts).
 */

/** One environment of a session, in the order it is entered. */
export interface SessionEnvironment {
  /** Where it comes from, for messages: `jobEnvironments[0] "Blender"`. */
  label: string;
  /** A job's stays entered while its session runs tasks of other steps; a step's does not. */
  scope: 'job' | 'step';
  environment: Environment;
}

/** The environments a session enters for a step: the job's, then the step's. */
export function sessionEnvironments(run: StepRun): SessionEnvironment[] {
  const list = (key: 'jobEnvironments' | 'stepEnvironments'): SessionEnvironment[] =>
    (run[key] ?? []).map((environment, i) => ({
      label: `${key}[${i}] "${environment.name}"`,
      scope: key === 'jobEnvironments' ? ('job' as const) : ('step' as const),
      environment,
    }));
  return [...list('jobEnvironments'), ...list('stepEnvironments')];
}

/** An environment made ready to enter: its variables resolved, its files named. */
export interface EnteredEnvironment {
  variables: Record<string, string>;
  files: { path: string; data: string; mode: number }[];
  symbols: ReadonlyMap<string, string>;
}

export interface PreparedAction {
  argv: string[];
  /** Seconds; undefined is no limit. */
  timeout: number | undefined;
  /** Milliseconds between SIGTERM and SIGKILL when the action is canceled. */
  graceMs: number;
  notify: boolean;
}

/** The notify period of environment actions when the template gives none (§5.3.2). */
const DEFAULT_ENV_NOTIFY_SECONDS = 30;

export function prepareEnvironment(
  run: StepRun,
  environment: Environment,
  sessionDir: string,
  rules: readonly PathMappingRule[] = [],
): EnteredEnvironment {
  const symbols = sessionSymbols(run, sessionDir, rules);
  const named = environment.embeddedFiles.map((f) => ({
    file: f,
    path: join(sessionDir, f.filename ?? `${f.name}-${randomBytes(6).toString('hex')}`),
  }));
  for (const { file, path } of named) symbols.set(`Env.File.${file.name}`, path);
  const files = named.map(({ file, path }) => ({
    path,
    data: resolveFormatString(file.data, symbols),
    mode: file.runnable ? 0o500 : 0o400,
  }));
  const variables = Object.fromEntries(
    Object.entries(environment.variables).map(([k, v]) => [k, resolveFormatString(v, symbols)]),
  );
  return { variables, files, symbols };
}

export function prepareAction(entered: EnteredEnvironment, action: Action): PreparedAction {
  const argv = [action.command, ...action.args].map((a) => resolveFormatString(a, entered.symbols));
  const c = action.cancelation;
  const graceMs =
    c.mode === 'TERMINATE' ? 0 : (c.notifyPeriodInSeconds ?? DEFAULT_ENV_NOTIFY_SECONDS) * 1000;
  return { argv, timeout: action.timeout, graceMs, notify: c.mode === 'NOTIFY_THEN_TERMINATE' };
}
