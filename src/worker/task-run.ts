import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathMappingRule } from '../formats/openjd/path-mapping.js';
import { describeUsage } from './cgroup.js';
import type { Containment, TaskScope } from './containment.js';
import { LogShipper } from './log-shipper.js';
import { Redactions, redactCommand } from './openjd-redaction.js';
import type { SessionTicket, TaskOutcome } from './openjd-sessions.js';
import { noteCancel } from './openjd-task.js';
import { uploadOutputs } from './output-upload.js';
import { exitedUncollected, killTree, launch, type Launched } from './process-tree.js';
import { CanceledError, StaleLeaseError, type ServerClient } from './server-client.js';
import { taskCommand, type TaskCommand } from './task-command.js';
import { finishReport, MAX_ERROR_MESSAGE } from './task-outcome.js';
import { watchOutput, watchTimeout } from './task-watch.js';
import { UsageMeter } from './usage-meter.js';
import type { WorkOrder } from './work-order.js';

/*
 * One execution on this worker, from the acquired work order to the finish report:
 *
 *   prepare dir → spawn → start → (logs, progress, timeout) → exit → outputs → logs flushed → finish
 *
 * The server can withdraw the execution at any point (a heartbeat's stop list, or 409 on
 * any report): the process tree is killed and nothing more is reported, since the server
 * has already decided what happens to the task.
 */

export interface TaskRunOptions {
  client: ServerClient;
  nodeId: number;
  nodeName: string;
  workDir: string;
  killGraceMs: number;
  containment: Containment;
  /** The worker's OpenJD path mapping rules (--path-mapping-rules). */
  pathMappingRules: readonly PathMappingRule[];
  log: (message: string) => void;
}

/**
 * 'ended': the command has exited (on its own, or killed by a withdrawal) and its outcome
 * is being gathered: leftovers killed, outputs uploaded, log flushed.
 */
type Phase = 'preparing' | 'running' | 'ended' | 'reporting' | 'done';

/** What the server answers to a finish report: the execution as it ended. */
interface FinishedExecution {
  state?: string;
  error?: { name: string; message: string | null } | null;
}

export class TaskRun {
  readonly executionId: number;
  private readonly abort = new AbortController();
  private phase: Phase = 'preparing';
  /** How the command ended, once reported: its session's taskRun action says so too. */
  private outcome: TaskOutcome | undefined;
  private launched: Launched | undefined;
  private scope: TaskScope | undefined;
  private killing: Promise<void> | undefined;
  private withdrawn: string | undefined;
  private timedOut = false;
  /** Between SIGTERM and SIGKILL when the command is killed. */
  private graceMs: number;
  /** An OpenJD action canceled by NOTIFY_THEN_TERMINATE. */
  private notifyCancel = false;
  /** The last `openjd_fail:` message of an OpenJD action: the failure's message if it fails. */
  private failMessage: string | undefined;
  /** Where the command runs: the OpenJD session's directory, else the execution's. */
  private cwd: string;
  private logs: LogShipper | undefined;
  /** The secrets of `openjd_redacted_env` lines: the session's, else this task's own. */
  private readonly redactions: Redactions;

  constructor(
    private readonly order: WorkOrder,
    private readonly options: TaskRunOptions,
    /** An OpenJD step with environments: the session its task runs in (openjd-sessions.ts). */
    private readonly session?: SessionTicket,
  ) {
    this.executionId = order.execution.id;
    this.graceMs = options.killGraceMs;
    this.cwd = this.dir;
    this.redactions = session?.session.redactions ?? new Redactions();
  }

  /**
   * The server no longer wants this execution (or the worker is stopping): kill the process
   * tree and report nothing more. Ignored once the finish report is on its way.
   */
  withdraw(reason: string): Promise<void> {
    if (this.phase === 'reporting' || this.phase === 'done') return Promise.resolve();
    if (this.withdrawn === undefined) {
      this.withdrawn = reason;
      this.options.log(`execution ${this.executionId}: ${reason}; stopping it`);
      this.abort.abort();
    }
    return this.kill();
  }

  get isWithdrawn(): boolean {
    return this.withdrawn !== undefined;
  }

  /**
   * Whether the command has exited, even if the worker has not yet heard (a zombie). From
   * then on whatever it did is done, and only its report is left: giving the task back
   * would run its side effects a second time.
   */
  get commandEnded(): boolean {
    if (this.phase === 'ended' || this.phase === 'reporting' || this.phase === 'done') return true;
    return this.phase === 'running' && !!this.launched && exitedUncollected(this.launched.pid);
  }

  /**
   * The worker could not renew the lease in time (LeaseFence): the server may soon give the
   * task to another node, so the command is killed at once, SIGKILL without grace, since a
   * command that handled SIGTERM could run on past the lease for the whole grace. One that
   * has already exited is left to report how it ended: its work is done, and the server,
   * whose lease ends after the worker's count of it, may still take the report.
   */
  leaseLapsed(reason: string): void {
    if (this.commandEnded) return;
    this.graceMs = 0;
    void this.withdraw(reason);
    this.scope?.killAll();
  }

  private kill(): Promise<void> {
    if (!this.launched || !this.scope) return Promise.resolve();
    if (this.notifyCancel && this.killing === undefined) noteCancel(this.cwd, this.graceMs);
    this.killing ??= killTree(this.launched, this.scope, this.graceMs);
    return this.killing;
  }

  /** Runs the execution to its end; never throws. */
  async run(): Promise<void> {
    try {
      await this.runInner();
    } catch (error) {
      if (error instanceof StaleLeaseError) {
        await this.withdraw(`the server refused a report (${error.message})`);
      } else if (!(error instanceof CanceledError)) {
        await this.withdraw(`the worker could not go on with it: ${(error as Error).message}`);
      }
      await this.kill();
    } finally {
      this.phase = 'done';
      const logs = this.logs;
      this.session?.release(
        logs ? { executionId: this.executionId, lines: logs.position } : undefined,
        this.outcome,
      );
      this.scope?.killAll();
      await this.scope?.release();
      await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private get dir(): string {
    return join(this.options.workDir, String(this.executionId));
  }

  private async runInner(): Promise<void> {
    const { client, nodeId } = this.options;
    const { order } = this;
    const id = this.executionId;
    const signal = this.abort.signal;
    const outputDir = join(this.dir, 'out');
    try {
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(outputDir, { recursive: true });
    } catch (error) {
      const message = `cannot prepare ${outputDir}: ${(error as Error).message}`;
      return this.finish({
        success: false,
        error: { name: 'filesystem-io', category: 'SYSTEM', message },
      });
    }

    const { redactions } = this;
    const logs = new LogShipper({
      client,
      executionId: id,
      nodeId,
      signal,
      onStale: () => void this.withdraw('the server refused its log (lease gone)'),
      redact: (text) => redactions.apply(text),
    });
    this.logs = logs;

    if (this.session) {
      const failed = await this.session.open({ signal, log: (s, line) => logs.add(s, line) });
      if (failed !== undefined) return this.launchFailed(logs, failed, 'ALGORITHM');
      this.cwd = this.session.session.dir;
    }
    let command: TaskCommand;
    try {
      command = await taskCommand(order, {
        cwd: this.cwd,
        outputDir,
        nodeName: this.options.nodeName,
        ...(this.session ? { session: this.session } : {}),
        pathMappingRules: this.options.pathMappingRules,
      });
    } catch (error) {
      return this.launchFailed(logs, `the command could not be built: ${(error as Error).message}`);
    }
    const { argv, env, openjd } = command;
    if (openjd) {
      this.graceMs = Math.min(this.graceMs, openjd.graceMs);
      this.notifyCancel = openjd.notify;
    }

    const line = JSON.stringify(argv);
    logs.add(
      'worker',
      `drover: ${this.options.nodeName} runs ${openjd ? redactCommand(line) : line}`,
    );
    const { onLine, progress, status } = watchOutput(
      order,
      openjd ? this.redactions : undefined,
      logs,
      (what, body) => this.report(what, body),
      (text) => (this.failMessage = text),
    );
    const scope = this.options.containment.scope(id);
    this.scope = scope;
    try {
      this.launched = await launch(argv, { cwd: this.cwd, env, onLine, scope });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      return this.launchFailed(
        logs,
        `cannot run ${JSON.stringify(argv[0])}: ${e.code ?? e.message}`,
      );
    }
    const launched = this.launched;
    const meter = new UsageMeter(launched.pid, scope.cgroupDir);
    this.phase = 'running';
    await writeFile(join(this.dir, 'pid'), String(launched.pid)).catch(() => undefined);
    if (this.isWithdrawn) {
      meter.stop();
      await this.kill();
      return;
    }

    const started = this.report('start', {});
    started.catch(() => undefined);

    const timeout = watchTimeout(order, logs, (kill) => {
      this.timedOut = true;
      if (kill) void this.kill();
    });

    const exit = await launched.exited;
    // Set in the same turn as the exit is seen, so that a stop decided after it (shutdown(),
    // leaseLapsed()) reports the outcome rather than withdrawing what already ran.
    if (this.phase === 'running') this.phase = 'ended';
    meter.stop();
    timeout.clear();
    // Nothing the command started may outlive it: daemons, setsid children, double forks.
    scope.killAll();
    const usage = scope.usage();
    const measured = meter.usage(usage);
    // A grandchild may hold the pipes open; do not wait for it forever.
    await Promise.race([launched.streamsClosed, delay(2000)]);
    await this.killing;
    if (this.isWithdrawn) {
      await logs.close().catch(() => undefined);
      return;
    }
    logs.add(
      'worker',
      exit.code !== null
        ? `drover: exited with code ${exit.code}`
        : `drover: ended by signal ${exit.signal ?? 'unknown'}`,
    );
    if (usage) logs.add('worker', `drover: ${describeUsage(usage)}`);

    const uploads = await uploadOutputs(client, id, nodeId, outputDir, signal);
    for (const failure of uploads.failed) {
      logs.add('worker', `drover: output ${failure.name} was not uploaded: ${failure.reason}`);
    }
    if (uploads.uploaded.length > 0) {
      logs.add('worker', `drover: uploaded ${uploads.uploaded.length} output file(s)`);
    }
    await progress.idle();
    await status.idle();
    await logs.close();
    await started;
    if (this.isWithdrawn) return;

    const finish = finishReport({
      exit,
      timedOut: this.timedOut,
      onTimeout: timeout.action,
      timeoutSeconds: timeout.seconds,
      uploadsFailed: uploads.failed,
      failMessage: this.failMessage,
    });
    finish.usage = measured;
    await this.finish(finish);
  }

  /** SYSTEM: the command could not start; ALGORITHM: an OpenJD environment's onEnter failed. */
  private async launchFailed(
    logs: LogShipper,
    message: string,
    category: 'SYSTEM' | 'ALGORITHM' = 'SYSTEM',
  ): Promise<void> {
    logs.add('worker', `drover: ${message}`);
    await logs.close();
    if (this.isWithdrawn) return;
    const text = message.slice(0, MAX_ERROR_MESSAGE);
    const error =
      category === 'SYSTEM'
        ? { name: 'task-launch', category, message: text }
        : { category, message: text };
    await this.finish({ success: false, error });
  }

  private async finish(body: Record<string, unknown>): Promise<void> {
    this.phase = 'reporting';
    this.outcome = { success: body.success === true, exitCode: body.exitCode as number | null };
    try {
      const ended = (await this.report('finish', body)) as FinishedExecution | undefined;
      // The server can judge a reported success a failure: a Seed job's outputs that do not
      // satisfy its manifest fail there, and the operator should see why.
      const outcome =
        body.success && ended?.state === 'FAILED'
          ? `failed on the server: ${ended.error?.name ?? 'unknown'}${ended.error?.message ? ` (${ended.error.message})` : ''}`
          : body.success
            ? 'completed'
            : 'failed';
      this.options.log(`execution ${this.executionId}: ${outcome}`);
    } catch (error) {
      if (error instanceof StaleLeaseError) {
        this.options.log(
          `execution ${this.executionId}: the server refused the finish (${error.message})`,
        );
        return;
      }
      throw error;
    }
  }

  /**
   * The worker is stopping: kill the command and give the task back (no try counted). A
   * command that has already exited is not given back but reported as it ended: it has
   * done its work (written its files, sent its mail), and the task given back ran it all
   * again elsewhere (the worker-containment run wrote a frame twice on PostgreSQL, where
   * the log flush after the exit takes long enough for a stop to land in it).
   */
  async shutdown(running: Promise<void>): Promise<void> {
    if (this.commandEnded && !this.isWithdrawn) return running;
    await this.withdraw('the worker is stopping');
    await running;
    await this.options.client
      .request('POST', `/executions/${this.executionId}/abort`, {
        body: { nodeId: this.options.nodeId },
        retryForMs: 3000,
        timeoutMs: 3000,
      })
      .catch(() => undefined);
  }

  private async report(what: string, body: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.options.client.request('POST', `/executions/${this.executionId}/${what}`, {
        body: { nodeId: this.options.nodeId, ...body },
        signal: this.abort.signal,
        timeoutMs: 30_000,
      });
    } catch (error) {
      if (error instanceof StaleLeaseError && what !== 'finish') {
        void this.withdraw(`the server refused its ${what} (${error.message})`);
      }
      throw error;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
