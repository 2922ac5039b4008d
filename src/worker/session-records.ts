import { randomUUID } from 'node:crypto';
import { LogShipper, type LogStream } from './log-shipper.js';
import { CanceledError, HttpError, type ServerClient } from './server-client.js';

/*
 * The server's record of the worker's OpenJD sessions (docs/openjd.md#session-records):
 * each session is opened on the server, each of its actions (envEnter, taskRun, envExit)
 * reported as it starts and ends, its log lines shipped to its own log, and its end
 * reported with the reason. Reporting never holds up or fails a task: reports go one after
 * another in the background, each retried for a while like the log shipper's, and dropped
 * if the server still cannot take them. A server without session records (older than
 * migration 0046) answers the first open with 404: the worker then stops reporting
 * sessions, saying so once in its own log.
 */

export type ActionKind = 'envEnter' | 'taskRun' | 'envExit';
export type ActionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'INTERRUPTED' | 'CANCELED';

interface ActionState {
  index: number;
  kind: ActionKind;
  status: ActionStatus;
  environment?: string;
  stepJobId?: number;
  executionId?: number;
  processExitCode?: number;
  progressMessage?: string;
  startedAt: string;
  endedAt?: string;
}

/** How long one report may be retried before it is dropped. */
const RETRY_MS = 60_000;
/** Lines kept while the session is being opened on the server. */
const MAX_EARLY_LINES = 1000;

export interface SessionRecordsOptions {
  client: ServerClient;
  /** The node's id, known once it has registered. */
  nodeId: () => number | undefined;
  log: (message: string) => void;
}

/** The worker's session records; `start` one per OpenJD session. */
export class SessionRecords {
  /** The server has no session records: nothing more is sent. */
  private unsupported = false;

  constructor(private readonly options: SessionRecordsOptions) {}

  start(jobId: number): SessionRecord {
    return new SessionRecord(
      this.options,
      jobId,
      () => this.unsupported,
      () => {
        if (this.unsupported) return;
        this.unsupported = true;
        this.options.log(
          'the server keeps no session records (older than 0046): not reporting sessions',
        );
      },
    );
  }
}

export class SessionRecord {
  private id: number | undefined;
  /** Reports in order, one at a time. */
  private chain: Promise<void>;
  private readonly actions: ActionState[] = [];
  private shipper: LogShipper | undefined;
  private early: [LogStream, string][] = [];
  private readonly giveUp = new AbortController();
  private dead = false;

  constructor(
    private readonly options: SessionRecordsOptions,
    jobId: number,
    private readonly unsupported: () => boolean,
    markUnsupported: () => void,
  ) {
    this.chain = this.open(jobId, markUnsupported);
  }

  private async open(jobId: number, markUnsupported: () => void): Promise<void> {
    const nodeId = this.options.nodeId();
    if (this.unsupported() || nodeId === undefined) return this.stop();
    try {
      const session = await this.options.client.request<{ id: number }>('POST', '/sessions', {
        body: { nodeId, jobId, clientToken: randomUUID() },
        signal: this.giveUp.signal,
        retryForMs: RETRY_MS,
        timeoutMs: 30_000,
      });
      this.id = session.id;
    } catch (error) {
      // `no route …`: the server predates session records (a purged job says `job … does not exist`).
      if (error instanceof HttpError && error.status === 404 && /no route/.test(error.message)) {
        markUnsupported();
      } else if (!(error instanceof CanceledError)) {
        this.options.log(`session of job ${jobId}: not recorded (${(error as Error).message})`);
      }
      return this.stop();
    }
    this.shipper = new LogShipper({
      client: this.options.client,
      executionId: 0,
      nodeId,
      path: `/sessions/${this.id}/log`,
      signal: this.giveUp.signal,
      onStale: () => this.stop(),
    });
    for (const [stream, text] of this.early) this.shipper.add(stream, text);
    this.early = [];
  }

  private stop(): void {
    this.dead = true;
    this.early = [];
  }

  /** A line of the session's own log. */
  log(stream: LogStream, text: string): void {
    if (this.dead) return;
    if (this.shipper) this.shipper.add(stream, text);
    else if (this.early.length < MAX_EARLY_LINES) this.early.push([stream, text]);
  }

  /** An action starts: reported RUNNING; answers its index for finish(). */
  begin(
    kind: ActionKind,
    where: { environment?: string; stepJobId?: number; executionId?: number },
  ): number {
    const index = this.actions.length;
    this.actions.push({ index, kind, status: 'RUNNING', ...where, startedAt: now() });
    this.send(index);
    return index;
  }

  /** The action has ended. */
  finish(
    index: number,
    status: Exclude<ActionStatus, 'RUNNING'>,
    detail: { processExitCode?: number | undefined; progressMessage?: string | undefined } = {},
  ): void {
    const action = this.actions[index];
    if (!action || action.status !== 'RUNNING') return;
    action.status = status;
    action.endedAt = now();
    if (detail.processExitCode !== undefined) action.processExitCode = detail.processExitCode;
    if (detail.progressMessage !== undefined) {
      action.progressMessage = detail.progressMessage.slice(0, 4096);
    }
    this.send(index);
  }

  /** The session has ended: its log is flushed, then the end reported (bounded by `giveUpMs`). */
  async end(reason: string, giveUpMs: number): Promise<void> {
    const timer = setTimeout(() => this.giveUp.abort(), giveUpMs);
    try {
      await this.chain;
      await this.shipper?.close();
      await this.post('end', { reason: reason.slice(0, 1024) });
    } finally {
      clearTimeout(timer);
      this.giveUp.abort();
    }
  }

  private send(index: number): void {
    // A copy now: the action may change before its turn comes.
    const action = { ...this.actions[index]! };
    this.chain = this.chain.then(() => this.post('actions', { actions: [action] }));
  }

  /** One report; failures are dropped (the task never waits on them). */
  private async post(what: string, body: Record<string, unknown>): Promise<void> {
    const nodeId = this.options.nodeId();
    if (this.dead || this.id === undefined || nodeId === undefined) return;
    try {
      await this.options.client.request('POST', `/sessions/${this.id}/${what}`, {
        body: { nodeId, ...body },
        signal: this.giveUp.signal,
        retryForMs: RETRY_MS,
        timeoutMs: 30_000,
      });
    } catch (error) {
      if (error instanceof CanceledError) return;
      // Refused, or the server away for the whole retry: the reports after it would fare
      // no better, and waiting on each in turn would only pile them up. The session's
      // record stops here; its tasks run on regardless.
      this.options.log(
        `session ${this.id}: no longer recorded (${what}: ${(error as Error).message})`,
      );
      this.stop();
    }
  }
}

const now = (): string => new Date().toISOString();
