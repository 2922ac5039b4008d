import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import {
  prepareAction,
  prepareEnvironment,
  sessionEnvironments,
  type EnteredEnvironment,
  type PreparedAction,
  type SessionEnvironment,
} from '../formats/openjd/openjd-environments.js';
import type { StepRun } from '../formats/openjd/openjd-run.js';
import type { PathMappingRule } from '../formats/openjd/path-mapping.js';
import type { Action } from '../formats/openjd/template-scripts.js';
import type { Containment } from './containment.js';
import { readOpenjdMessage } from './openjd-messages.js';
import { Redactions, redactCommand, redactedEnvNote } from './openjd-redaction.js';
import { noteCancel, writeRulesFile } from './openjd-task.js';
import { killTree, launch } from './process-tree.js';
import type { SessionRecord } from './session-records.js';

/*
 * An OpenJD session on this worker (as openjd-sessions runs one): a session belongs to one
 * OpenJD job. The first task the worker takes of a step with environments enters the job's
 * environments, then the step's, each setting its `variables` and running its onEnter; the
 * job's further tasks on this worker run in the same session directory with the environment
 * variables the environments set (their `variables`, and the `openjd_env`/`openjd_unset_env`
 * lines of their onEnter). A task of another step of the same job exits the step's
 * environments (in reverse) and enters its own step's: the job's stay entered, as
 * openjd-sessions-for-python keeps them for the session's whole life. When the worker has no
 * more tasks of the job (openjd-sessions.ts), every environment is exited in reverse, each
 * onExit seeing its own environment's variables.
 * An onEnter that fails fails the task that entered and tears the session down: the
 * environments entered before it are exited. The secrets told by `openjd_redacted_env`
 * (openjd-redaction.ts) are kept out of every line the session logs from then on, its
 * tasks' too; the variable is set only from an onEnter, and only when the template has the
 * REDACTED_ENV_VARS extension.
 */

export type SessionLine = (stream: 'stdout' | 'stderr' | 'worker', line: string) => void;

/** What one action of a session is run with. */
export interface ActionHooks {
  log: SessionLine;
  /** Aborted when the action must stop (the task withdrawn, the worker stopping). */
  signal: AbortSignal;
}

export interface SessionDeps {
  containment: Containment;
  /** The worker's grace between SIGTERM and SIGKILL; an action's shorter one wins. */
  killGraceMs: number;
  /** The environment of every action before the session's own variables. */
  baseEnv: NodeJS.ProcessEnv;
  /** The worker's own path mapping rules (--path-mapping-rules). */
  pathMappingRules: readonly PathMappingRule[];
}

/** Where the session's last task logged: its onExit output goes there too. */
export interface LastLog {
  executionId: number;
  /** The lines that log holds: where the onExit lines start. */
  lines: number;
}

export class SessionEnterError extends Error {}

interface Entered {
  source: SessionEnvironment;
  prepared: EnteredEnvironment;
  /** Its variables, then what its onEnter set (a string) or unset (null), in order. */
  changes: Map<string, string | null>;
  /** A step's environment: the step job it was entered for. */
  stepJobId: number | undefined;
}

/** Environment actions have no execution: their containment scopes count down from -1. */
let nextActionScope = -1;

export class OpenjdSession {
  /** A task of the job runs in it now. */
  busy = true;
  /** The onEnter of an environment failed, or the task entering was withdrawn. */
  broken = false;
  lastUsed = Date.now();
  /** The log of the last task that ran in the session (openjd-sessions.ts ends it there). */
  lastLog: LastLog | undefined;
  readonly redactions = new Redactions();
  /** The server's record of the session: its actions and its own log (session-records.ts). */
  record: SessionRecord | undefined;
  /** The exit code of the last action run, for its record. */
  private lastExitCode: number | undefined;
  /** The step job whose environments are entered (or being entered); none before the first. */
  step: number | undefined;
  /** The step's run: its environments, and the symbols every action resolves. */
  private run: StepRun | undefined;
  private entering: Promise<void> | undefined;
  private readonly entered: Entered[] = [];
  /** The directory is made and the job's environments entered. */
  private opened = false;

  constructor(
    /** The OpenJD job's id (the step jobs' parent): tasks of its steps share a session. */
    readonly key: number,
    readonly dir: string,
    private readonly deps: SessionDeps,
    /** The rules of its tasks: their pool's and the worker's (path-mapping-rules.ts). */
    readonly rules: readonly PathMappingRule[] = deps.pathMappingRules,
  ) {}

  /**
   * Enters the environments of step `step` once (the job's first, the first time); throws
   * SessionEnterError with the reason if one fails. A session at another step must have
   * left it first (leaveStep).
   */
  enter(step: number, run: StepRun, hooks: ActionHooks): Promise<void> {
    if (this.step !== step || !this.entering) {
      this.step = step;
      this.run = run;
      this.entering = this.enterAll(run, this.redacting(hooks));
    }
    return this.entering;
  }

  /** The same hooks, each line logged without the secrets the session knows. */
  private redacting(hooks: ActionHooks): ActionHooks {
    return {
      ...hooks,
      log: (stream, line) => {
        const text = this.redactions.apply(line);
        hooks.log(stream, text);
        this.record?.log(stream, text);
      },
    };
  }

  private async enterAll(run: StepRun, hooks: ActionHooks): Promise<void> {
    const first = !this.opened;
    if (first) {
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true });
      await writeRulesFile(this.dir, this.rules);
      this.opened = true;
    }
    for (const source of sessionEnvironments(run)) {
      // The job's environments were entered with the session's first step, and stay.
      if (source.scope === 'job' && !first) continue;
      const { environment, label } = source;
      hooks.log('worker', `drover: entering environment ${label}`);
      const stepJobId = source.scope === 'step' ? this.step : undefined;
      const action = this.record?.begin('envEnter', { environment: label, stepJobId });
      let prepared: EnteredEnvironment;
      try {
        prepared = prepareEnvironment(run, environment, this.dir, this.rules);
        await writeFiles(prepared.files);
      } catch (error) {
        this.broken = true;
        const why = `environment ${label} could not be entered: ${(error as Error).message}`;
        this.endAction(action, why);
        throw new SessionEnterError(why);
      }
      // Its variables are set before its onEnter runs, which sees them (openjd-sessions).
      const entry: Entered = {
        source,
        prepared,
        changes: new Map(Object.entries(prepared.variables)),
        stepJobId,
      };
      this.entered.push(entry);
      const failure = environment.onEnter
        ? await this.runAction(entry, environment.onEnter, hooks, true)
        : undefined;
      this.endAction(action, failure);
      if (failure !== undefined) {
        this.broken = true;
        // The one that failed is not exited: only those whose onEnter succeeded.
        this.entered.pop();
        throw new SessionEnterError(`the onEnter of environment ${label} failed: ${failure}`);
      }
    }
  }

  /** The environment variables of the session's actions: base, then each environment's. */
  env(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env = { ...base };
    for (const { changes } of this.entered) {
      for (const [name, value] of changes) {
        if (value === null) delete env[name];
        else env[name] = value;
      }
    }
    return env;
  }

  /**
   * Exits the step's environments, innermost first, for a task of another step: the job's
   * stay. Never throws.
   */
  async leaveStep(outer: ActionHooks): Promise<void> {
    await this.entering?.catch(() => undefined);
    await this.exitWhile(this.redacting(outer), (entry) => entry.source.scope === 'step');
    this.step = undefined;
    this.entering = undefined;
  }

  /** Exits the environments entered, innermost first, and removes the directory. Never throws. */
  async exit(outer: ActionHooks): Promise<void> {
    await this.entering?.catch(() => undefined);
    await this.exitWhile(this.redacting(outer), () => true);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private async exitWhile(hooks: ActionHooks, which: (entry: Entered) => boolean): Promise<void> {
    while (this.entered.length > 0 && which(this.entered[this.entered.length - 1]!)) {
      const entry = this.entered[this.entered.length - 1]!;
      const onExit = entry.source.environment.onExit;
      const action = this.record?.begin('envExit', {
        environment: entry.source.label,
        stepJobId: entry.stepJobId,
      });
      let failure: string | undefined;
      if (onExit) {
        hooks.log('worker', `drover: exiting environment ${entry.source.label}`);
        // Its own variables still apply to its onExit; they go once it has run.
        failure = await this.runAction(entry, onExit, hooks, false).catch(
          (error: Error) => error.message,
        );
        if (failure !== undefined) {
          hooks.log('worker', `drover: the onExit of ${entry.source.label} failed: ${failure}`);
        }
      }
      this.endAction(action, failure);
      this.entered.pop();
    }
  }

  /** Records how an environment action ended (`failure`: why it failed). */
  private endAction(index: number | undefined, failure: string | undefined): void {
    if (index === undefined) return;
    const exitCode = this.lastExitCode;
    this.lastExitCode = undefined;
    this.record?.finish(index, failure === undefined ? 'SUCCEEDED' : 'FAILED', {
      processExitCode: exitCode,
      progressMessage: failure,
    });
  }

  /** Runs one action; undefined when it succeeded, else why it failed. */
  private async runAction(
    entry: Entered,
    action: Action,
    hooks: ActionHooks,
    entering: boolean,
  ): Promise<string | undefined> {
    let prepared: PreparedAction;
    try {
      prepared = prepareAction(entry.prepared, action);
    } catch (error) {
      return `its command could not be built: ${(error as Error).message}`;
    }
    if (hooks.signal.aborted) return 'canceled before it ran';
    let failMessage: string | undefined;
    const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
      const message = readOpenjdMessage(line);
      // Learned before the line is logged: the line telling the secret is redacted too.
      if (message?.kind === 'redacted_env' || message?.kind === 'malformed') {
        if (message.secrets) this.redactions.learn(message.secrets);
      }
      hooks.log(stream, line);
      if (message?.kind === 'fail') failMessage = message.text;
      else if (message?.kind === 'malformed') hooks.log('worker', `drover: ${message.note}`);
      else if (entering && message?.kind === 'env') entry.changes.set(message.name, message.value);
      else if (entering && message?.kind === 'unset_env') entry.changes.set(message.name, null);
      else if (message?.kind === 'redacted_env') {
        const note = this.run ? redactedEnvNote(this.run, entering) : undefined;
        if (note) hooks.log('worker', `drover: ${note}`);
        else entry.changes.set(message.name, message.value);
      }
    };
    const scope = this.deps.containment.scope(nextActionScope--);
    const graceMs = Math.min(this.deps.killGraceMs, prepared.graceMs);
    hooks.log('worker', `drover: runs ${redactCommand(JSON.stringify(prepared.argv))}`);
    let launched;
    try {
      launched = await launch(prepared.argv, {
        cwd: this.dir,
        env: this.env(this.deps.baseEnv),
        onLine,
        scope,
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      await scope.release();
      return `cannot run ${JSON.stringify(prepared.argv[0])}: ${e.code ?? e.message}`;
    }
    let killing: Promise<void> | undefined;
    const kill = (): void => {
      if (prepared.notify && killing === undefined) noteCancel(this.dir, graceMs);
      killing ??= killTree(launched, scope, graceMs);
    };
    let timedOut = false;
    const timer =
      prepared.timeout === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            kill();
          }, prepared.timeout * 1000);
    hooks.signal.addEventListener('abort', kill, { once: true });
    if (hooks.signal.aborted) kill();
    const exit = await launched.exited;
    this.lastExitCode = exit.code ?? undefined;
    clearTimeout(timer);
    hooks.signal.removeEventListener('abort', kill);
    scope.killAll();
    await Promise.race([launched.streamsClosed, delay(2000)]);
    await killing;
    await scope.release();
    if (timedOut) return `ran longer than its timeout of ${prepared.timeout} s and was killed`;
    if (hooks.signal.aborted) return 'canceled';
    if (exit.code === 0) return undefined;
    const how =
      exit.code !== null
        ? `exited with code ${exit.code}`
        : `ended by signal ${exit.signal ?? 'unknown'}`;
    return failMessage === undefined ? how : `${failMessage} (${how})`;
  }
}

async function writeFiles(files: EnteredEnvironment['files']): Promise<void> {
  for (const file of files) {
    await chmod(file.path, 0o600).catch(() => undefined);
    await writeFile(file.path, file.data, { mode: 0o600 });
    await chmod(file.path, file.mode);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
