import { FormatStringError, referencesOf } from './format-strings.js';
import type { JobParameterType } from './job-parameters.js';
import {
  at,
  checkIdentifier,
  checkList,
  checkString,
  isRecord,
  onlyKeys,
  type Problems,
} from './template-problems.js';

/*
 * The parts of a template that run on a worker (2023-09 §4-6): actions, embedded files,
 * environments; and the scopes their format strings are checked in (§7.3.1). Param.X of a
 * PATH parameter is its path-mapped value, known only on the worker, so outside
 * environments and step scripts only RawParam.X may name it.
 */

export interface Action {
  command: string;
  args: string[];
  /** Seconds; none is no limit. */
  timeout?: number;
  cancelation:
    { mode: 'TERMINATE' } | { mode: 'NOTIFY_THEN_TERMINATE'; notifyPeriodInSeconds?: number };
}

export interface EmbeddedFile {
  name: string;
  filename?: string;
  runnable: boolean;
  data: string;
}

export interface StepScript {
  onRun: Action;
  embeddedFiles: EmbeddedFile[];
}

export interface Environment {
  name: string;
  onEnter?: Action;
  onExit?: Action;
  embeddedFiles: EmbeddedFile[];
  variables: Record<string, string>;
}

/** What a format string may name where it stands. */
export interface Scope {
  params: ReadonlyMap<string, JobParameterType>;
  /** In environments and step scripts: Param.X of a PATH parameter, Session.* */
  host: boolean;
  taskParams?: ReadonlySet<string>;
  taskFiles?: ReadonlySet<string>;
  envFiles?: ReadonlySet<string>;
}

const SESSION = new Set(['WorkingDirectory', 'HasPathMappingRules', 'PathMappingRulesFile']);

function refProblem(ref: string, scope: Scope): string | undefined {
  const parts = ref.split('.');
  const [head, second, third] = parts;
  const name = (n: number) => parts.slice(n).join('.');
  if ((head === 'Param' || head === 'RawParam') && parts.length === 2) {
    const type = scope.params.get(second!);
    if (type === undefined) return `no job parameter is named "${second}"`;
    if (head === 'Param' && type === 'PATH' && !scope.host) {
      return `Param.${second} is a PATH parameter, available only in environments and step scripts; use RawParam.${second} here`;
    }
    return undefined;
  }
  if (head === 'Task' && (second === 'Param' || second === 'RawParam') && parts.length === 3) {
    if (!scope.taskParams) return "task parameters are available only in a step's script";
    return scope.taskParams.has(third!) ? undefined : `the step has no task parameter "${third}"`;
  }
  if (head === 'Task' && second === 'File' && parts.length === 3) {
    if (!scope.taskFiles) return "Task.File is available only in a step's script";
    return scope.taskFiles.has(third!) ? undefined : `the step's script embeds no file "${third}"`;
  }
  if (head === 'Env' && second === 'File' && parts.length === 3) {
    if (!scope.envFiles) return "Env.File is available only in an environment's script";
    return scope.envFiles.has(third!) ? undefined : `the environment embeds no file "${third}"`;
  }
  if (head === 'Session' && parts.length === 2 && SESSION.has(second!)) {
    return scope.host
      ? undefined
      : 'Session values are available only in environments and step scripts';
  }
  return `"${name(0)}" is not a value this specification defines`;
}

/** Checks a format string's syntax and that each reference is in scope. */
export function checkFormatString(
  problems: Problems,
  path: string,
  value: string,
  scope: Scope,
): void {
  let refs: string[];
  try {
    refs = referencesOf(value);
  } catch (error) {
    if (!(error instanceof FormatStringError)) throw error;
    problems.add(path, error.message);
    return;
  }
  for (const ref of refs) {
    const problem = refProblem(ref, scope);
    if (problem) problems.add(path, `{{${ref}}}: ${problem}`);
  }
}

function checkAction(
  problems: Problems,
  path: string,
  raw: unknown,
  scope: Scope,
): Action | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object with a command');
    return undefined;
  }
  onlyKeys(problems, path, raw, ['command', 'args', 'timeout', 'cancelation']);
  const command = checkString(problems, at(path, 'command'), raw.command, {
    min: 1,
    noControl: true,
  });
  if (command) checkFormatString(problems, at(path, 'command'), command, scope);
  const args: string[] = [];
  if (raw.args !== undefined) {
    checkList(problems, at(path, 'args'), raw.args, 0, 10_000).forEach((a, i) => {
      const s = checkString(problems, at(at(path, 'args'), i), a, { noControl: true });
      if (s === undefined) return;
      checkFormatString(problems, at(at(path, 'args'), i), s, scope);
      args.push(s);
    });
  }
  const action: Action = { command: command ?? '', args, cancelation: { mode: 'TERMINATE' } };
  if (raw.timeout !== undefined) {
    if (typeof raw.timeout !== 'number' || !Number.isInteger(raw.timeout) || raw.timeout < 1) {
      problems.add(at(path, 'timeout'), 'must be a positive integer (seconds)');
    } else action.timeout = raw.timeout;
  }
  if (raw.cancelation !== undefined) {
    const c = raw.cancelation;
    const cpath = at(path, 'cancelation');
    if (!isRecord(c) || (c.mode !== 'TERMINATE' && c.mode !== 'NOTIFY_THEN_TERMINATE')) {
      problems.add(at(cpath, 'mode'), 'must be TERMINATE or NOTIFY_THEN_TERMINATE');
    } else if (c.mode === 'TERMINATE') {
      onlyKeys(problems, cpath, c, ['mode']);
    } else {
      onlyKeys(problems, cpath, c, ['mode', 'notifyPeriodInSeconds']);
      const n = c.notifyPeriodInSeconds;
      if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 600)) {
        problems.add(at(cpath, 'notifyPeriodInSeconds'), 'must be an integer from 1 to 600');
      }
      action.cancelation = {
        mode: 'NOTIFY_THEN_TERMINATE',
        ...(typeof n === 'number' ? { notifyPeriodInSeconds: n } : {}),
      };
    }
  }
  return action;
}

/** The embedded files' names first: actions may name them before they are checked. */
function fileNames(raw: unknown): Set<string> {
  return new Set(
    (Array.isArray(raw) ? raw : []).flatMap((f) =>
      isRecord(f) && typeof f.name === 'string' ? [f.name] : [],
    ),
  );
}

function checkEmbeddedFiles(
  problems: Problems,
  path: string,
  raw: unknown,
  scope: Scope,
): EmbeddedFile[] {
  if (raw === undefined) return [];
  const seen = new Set<string>();
  return checkList(problems, path, raw, 1, 1000).flatMap((f, i) => {
    const fpath = at(path, i);
    if (!isRecord(f)) {
      problems.add(fpath, 'must be an object');
      return [];
    }
    onlyKeys(problems, fpath, f, ['name', 'type', 'filename', 'runnable', 'data']);
    const name = checkIdentifier(problems, at(fpath, 'name'), f.name, 64);
    if (name !== undefined && seen.has(name))
      problems.add(at(fpath, 'name'), `"${name}" is embedded twice`);
    if (name !== undefined) seen.add(name);
    if (f.type !== 'TEXT') problems.add(at(fpath, 'type'), 'must be TEXT');
    const file: EmbeddedFile = { name: name ?? '', runnable: false, data: '' };
    if (f.filename !== undefined) {
      const filename = checkString(problems, at(fpath, 'filename'), f.filename, {
        min: 1,
        max: 64,
        noControl: true,
      });
      if (
        filename !== undefined &&
        (/[/\\]/.test(filename) || filename === '.' || filename === '..')
      ) {
        problems.add(at(fpath, 'filename'), 'must be a file name alone, without directories');
      } else if (filename !== undefined) file.filename = filename;
    }
    if (f.runnable !== undefined && typeof f.runnable !== 'boolean') {
      problems.add(at(fpath, 'runnable'), 'must be true or false');
    } else file.runnable = f.runnable === true;
    const data = checkString(problems, at(fpath, 'data'), f.data, { min: 1 });
    if (data !== undefined) {
      checkFormatString(problems, at(fpath, 'data'), data, scope);
      file.data = data;
    }
    return [file];
  });
}

/** `<StepScript>` (§3.5) in the scope of the step's task parameters. */
export function checkStepScript(
  problems: Problems,
  path: string,
  raw: unknown,
  base: Scope,
): StepScript | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object with actions.onRun');
    return undefined;
  }
  onlyKeys(problems, path, raw, ['actions', 'embeddedFiles']);
  const scope: Scope = { ...base, host: true, taskFiles: fileNames(raw.embeddedFiles) };
  const actions = raw.actions;
  let onRun: Action | undefined;
  if (!isRecord(actions)) problems.add(at(path, 'actions'), 'must be an object with onRun');
  else {
    onlyKeys(problems, at(path, 'actions'), actions, ['onRun']);
    onRun = checkAction(problems, at(at(path, 'actions'), 'onRun'), actions.onRun, scope);
  }
  const embeddedFiles = checkEmbeddedFiles(
    problems,
    at(path, 'embeddedFiles'),
    raw.embeddedFiles,
    scope,
  );
  return onRun ? { onRun, embeddedFiles } : undefined;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `<Environment>` (§4); names are checked unique by the caller. */
export function checkEnvironment(
  problems: Problems,
  path: string,
  raw: unknown,
  base: Scope,
): Environment | undefined {
  if (!isRecord(raw)) {
    problems.add(path, 'must be an object');
    return undefined;
  }
  onlyKeys(problems, path, raw, ['name', 'description', 'script', 'variables']);
  const name = checkString(problems, at(path, 'name'), raw.name, {
    min: 1,
    max: 64,
    noControl: true,
  });
  if (raw.description !== undefined) {
    checkString(problems, at(path, 'description'), raw.description, {
      min: 1,
      max: 2048,
      noControlButWhitespace: true,
    });
  }
  if (raw.script === undefined && raw.variables === undefined) {
    problems.add(path, 'needs a script, variables, or both');
  }
  const env: Environment = { name: name ?? '', embeddedFiles: [], variables: {} };
  if (raw.script !== undefined) {
    const spath = at(path, 'script');
    const s = raw.script;
    const scope: Scope = {
      ...base,
      host: true,
      envFiles: fileNames(isRecord(s) ? s.embeddedFiles : undefined),
    };
    if (!isRecord(s) || !isRecord(s.actions))
      problems.add(at(spath, 'actions'), 'must be an object with onEnter or onExit');
    else {
      onlyKeys(problems, spath, s, ['actions', 'embeddedFiles']);
      onlyKeys(problems, at(spath, 'actions'), s.actions, ['onEnter', 'onExit']);
      const apath = at(spath, 'actions');
      // <EnvironmentActions> (§4.1): onEnter, onExit, or both.
      if (s.actions.onEnter === undefined && s.actions.onExit === undefined) {
        problems.add(apath, 'needs onEnter, onExit, or both');
      }
      if (s.actions.onEnter !== undefined) {
        const onEnter = checkAction(problems, at(apath, 'onEnter'), s.actions.onEnter, scope);
        if (onEnter) env.onEnter = onEnter;
      }
      if (s.actions.onExit !== undefined) {
        const onExit = checkAction(problems, at(apath, 'onExit'), s.actions.onExit, scope);
        if (onExit) env.onExit = onExit;
      }
      env.embeddedFiles = checkEmbeddedFiles(
        problems,
        at(spath, 'embeddedFiles'),
        s.embeddedFiles,
        scope,
      );
    }
  }
  if (raw.variables !== undefined) {
    const vpath = at(path, 'variables');
    if (!isRecord(raw.variables) || Object.keys(raw.variables).length === 0) {
      problems.add(vpath, 'must be an object of at least one variable');
    } else {
      for (const [key, value] of Object.entries(raw.variables)) {
        if (!VARIABLE.test(key) || key.length > 256) {
          problems.add(
            at(vpath, key),
            'is not a variable name: latin letters, digits and "_", not starting with a digit, at most 256',
          );
        }
        const v = checkString(problems, at(vpath, key), value, { max: 2048 });
        if (v !== undefined) {
          checkFormatString(problems, at(vpath, key), v, { ...base, host: true });
          env.variables[key] = v;
        }
      }
    }
  }
  return env;
}
