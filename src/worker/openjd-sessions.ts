import { join } from 'node:path';
import type { PathMappingRule } from '../domain/path-mapping-rules.js';
import { hasEnvironments, OPENJD_STEP_TYPE, stepRunOf } from '../formats/openjd/openjd-run.js';
import {
  OpenjdSession,
  SessionEnterError,
  type ActionHooks,
  type LastLog,
  type SessionDeps,
  type SessionLine,
} from './openjd-session.js';
import { rulesForOrder, rulesKey } from './path-mapping-rules.js';
import type { SessionRecords } from './session-records.js';
import type { WorkOrder } from './work-order.js';

/*
 * The OpenJD sessions a worker holds (openjd-session.ts), one per OpenJD job it runs tasks of
 * at once, for steps with environments (as openjd-sessions-for-python: a session is per job
 * on a worker). A task takes an idle session of its job if there is one, one at its own step
 * first, else opens a new one; a session at another step exits that step's environments and
 * enters the task's step's, the job's staying entered. A session ends (all its environments
 * are exited) when its job has no more tasks for this worker:
 *   - a task of another job needs its slot: idle sessions beyond the slots left free by the
 *     running tasks are ended, least recently used first, before that task runs;
 *   - a claim came back empty after its long-poll wait: every idle session ends;
 *   - the worker stops: every session ends once its task has been stopped.
 * Each claim names the jobs (and steps) of the idle sessions (preferred()), and the server
 * gives their tasks first among jobs of the same priority (docs/scheduling.md#session-affinity),
 * so a session is not ended and entered again for a task of another job of equal standing.
 * Steps without environments keep running each task on its own, as before.
 *
 * The session's log: what its onEnter actions print is in the log of the task that entered
 * (task-run.ts); what its onExit actions print goes, after a line saying why the session
 * (or the step) ends, to the log of the last task that ran in it, which the server keeps
 * after the task has ended, as well as to the worker's own log.
 */

/** A log of an execution that has ended, to append lines to. */
export interface AppendedLog {
  add: SessionLine;
  close(): Promise<void>;
}

export interface SessionsOptions extends SessionDeps {
  workDir: string;
  log: (message: string) => void;
  /** Opens the log of an ended execution at its end (the worker's LogShipper). */
  openLog?: (last: LastLog) => AppendedLog;
  /** The server's records of the sessions (session-records.ts); none: not reported. */
  records?: SessionRecords;
  /** How long an ended session's last reports may take to reach the server. */
  recordGiveUpMs?: number;
}

/** How a task that ran in a session ended, for its taskRun action. */
export interface TaskOutcome {
  success: boolean;
  exitCode?: number | null;
}

/** A task's hold on its session; release() when the task is over. */
export interface SessionTicket {
  session: OpenjdSession;
  /**
   * Once the sessions ended to make room for this task have exited, enters the session's
   * environments if this task is its first: undefined when ready, else why it failed.
   */
  open(hooks: ActionHooks): Promise<string | undefined>;
  /**
   * The task is over; `log`: where its log ended, for the onExit lines to follow;
   * `outcome`: how it ended (none: it was given back or stopped).
   */
  release(log?: LastLog, outcome?: TaskOutcome): void;
}

export class OpenjdSessions {
  private readonly sessions = new Set<OpenjdSession>();
  private readonly ending = new Set<Promise<void>>();
  /** Never aborted: an onExit runs to its end or its own timeout, even when the worker stops. */
  private readonly signal = new AbortController().signal;
  private counter = 0;

  constructor(private readonly options: SessionsOptions) {}

  /**
   * Synchronously (several orders of one claim are placed in the same turn): the session
   * this order runs in, and the idle ones ended to leave `slotsLeft` slots for others.
   * Undefined for an order that needs no session.
   */
  reserve(order: WorkOrder, slotsLeft: number): SessionTicket | undefined {
    const run =
      order.jobType.name === OPENJD_STEP_TYPE ? stepRunOf(order.job.parameters) : undefined;
    const step = order.job.id;
    const key = order.job.parentId ?? step;
    let rules: PathMappingRule[] | undefined;
    try {
      rules = rulesForOrder(order, this.options.pathMappingRules);
    } catch {
      // Bad rules from the server: no session; the task's launch fails saying why.
    }
    const rulesId = rules && rulesKey(rules);
    let session: OpenjdSession | undefined;
    if (run && hasEnvironments(run) && rules) {
      // A session entered under other rules (its pool's were changed) is not taken.
      const free = [...this.sessions].filter(
        (s) => s.key === key && !s.busy && !s.broken && rulesKey(s.rules) === rulesId,
      );
      session = free.find((s) => s.step === step) ?? free.sort(byLastUse).at(-1);
    }
    const idle = [...this.sessions].filter((s) => !s.busy && s !== session).sort(byLastUse);
    const ends = idle.slice(0, Math.max(0, idle.length - Math.max(0, slotsLeft)));
    const ready = Promise.all(ends.map((s) => this.end(s, 'its slot is needed by another task')));
    if (!run || !hasEnvironments(run) || !rules) return undefined;
    let leaving: Promise<void> = Promise.resolve();
    if (session) {
      session.busy = true;
      if (session.step !== undefined && session.step !== step) {
        leaving = this.leaveStep(session, `a task of step job ${step} of the same job takes it`);
      }
    } else {
      session = new OpenjdSession(
        key,
        join(this.options.workDir, `session-${key}-${++this.counter}`),
        this.options,
        rules,
      );
      session.record = this.options.records?.start(key);
      this.sessions.add(session);
      this.options.log(`session ${key}: opened for job ${key}`);
    }
    const held = session;
    const executionId = order.execution.id;
    let taskAction: number | undefined;
    return {
      session: held,
      open: async (hooks) => {
        await ready;
        await leaving;
        try {
          await held.enter(step, run, hooks);
          // The task's output stays in its execution's log; the session's log points there.
          held.record?.log(
            'worker',
            `drover: task ${order.task.id} of step job ${step} runs as execution ${executionId} (its output is in that execution's log)`,
          );
          taskAction = held.record?.begin('taskRun', { executionId });
          return undefined;
        } catch (error) {
          held.broken = true;
          if (error instanceof SessionEnterError) return error.message;
          return `the session could not be opened: ${(error as Error).message}`;
        }
      },
      release: (log, outcome) => {
        if (log) held.lastLog = log;
        if (taskAction !== undefined) {
          const status = !outcome ? 'INTERRUPTED' : outcome.success ? 'SUCCEEDED' : 'FAILED';
          const exit = outcome?.exitCode ?? undefined;
          held.record?.log(
            'worker',
            `drover: execution ${executionId} ${status.toLowerCase()}${exit === undefined ? '' : ` (exit code ${exit})`}`,
          );
          held.record?.finish(taskAction, status, { processExitCode: exit });
        }
        held.busy = false;
        held.lastUsed = Date.now();
        if (held.broken) void this.end(held, 'an environment could not be entered');
      },
    };
  }

  /**
   * The jobs a claim prefers: of each idle session, most recently used first, the step it is
   * at (no environment to swap), then its job (the job's environments stay), at most `max`.
   */
  preferred(max: number): number[] {
    const ids = new Set<number>();
    const idle = [...this.sessions].filter((s) => !s.busy && !s.broken).sort(byLastUse);
    for (const s of idle.reverse()) {
      if (s.step !== undefined) ids.add(s.step);
      ids.add(s.key);
    }
    return [...ids].slice(0, max);
  }

  /** The queue had nothing for this worker: the idle sessions end. */
  endIdle(): Promise<void> {
    const idle = [...this.sessions].filter((s) => !s.busy);
    return Promise.all(idle.map((s) => this.end(s, 'no more tasks of its job'))).then(
      () => undefined,
    );
  }

  /** The worker stops, its tasks already stopped: every session ends. */
  async endAll(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => this.end(s, 'the worker is stopping')));
    await Promise.all(this.ending);
  }

  private end(session: OpenjdSession, why: string): Promise<void> {
    if (!this.sessions.delete(session)) return Promise.resolve();
    this.options.log(`session ${session.key}: ending (${why})`);
    const { hooks, close } = this.exitHooks(
      session,
      `the session ends (${why}): its environments are exited`,
    );
    const done = session
      .exit(hooks)
      // The last task's log and the session's own are flushed side by side: a server
      // that is away costs the worker's stop one give-up period, not two.
      .then(() =>
        Promise.all([close(), session.record?.end(why, this.options.recordGiveUpMs ?? 10_000)]),
      )
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => this.ending.delete(done));
    this.ending.add(done);
    return done;
  }

  /** A task of another step takes the session: the step's environments are exited first. */
  private leaveStep(session: OpenjdSession, why: string): Promise<void> {
    this.options.log(`session ${session.key}: leaving step job ${session.step} (${why})`);
    const { hooks, close } = this.exitHooks(
      session,
      `step job ${session.step} leaves the session (${why}): its environments are exited`,
    );
    return session
      .leaveStep(hooks)
      .then(close)
      .catch(() => undefined);
  }

  /** The onExit lines go to the worker's log and after the session's last task's log. */
  private exitHooks(
    session: OpenjdSession,
    what: string,
  ): { hooks: ActionHooks; close: () => Promise<void> } {
    const { log, openLog } = this.options;
    const last = session.lastLog && openLog ? openLog(session.lastLog) : undefined;
    last?.add('worker', `drover: ${what}`);
    session.record?.log('worker', `drover: ${what}`);
    const hooks: ActionHooks = {
      signal: this.signal,
      log: (stream, line) => {
        log(`session ${session.key}: ${stream}: ${line}`);
        last?.add(stream, line);
      },
    };
    return { hooks, close: async () => await last?.close() };
  }
}

const byLastUse = (a: OpenjdSession, b: OpenjdSession): number => a.lastUsed - b.lastUsed;
