import type { ServerClient } from './server-client.js';
import { CanceledError, sleep } from './server-client.js';

/*
 * Sends an execution's output lines to the server in order: one request in flight at a
 * time, a batch every FLUSH_MS or as soon as BATCH_LINES are waiting. While the server is
 * away the lines wait in a bounded buffer; past its bound the oldest are dropped and a
 * note says how many, so a chatty task cannot eat the worker's memory.
 */

/** The process's stdout and stderr, and the worker's own lines about running it. */
export type LogStream = 'stdout' | 'stderr' | 'worker';
interface Line {
  stream: LogStream;
  text: string;
  time: string;
}

export const FLUSH_MS = 250;
export const BATCH_LINES = 500;
export const MAX_BUFFERED_LINES = 10_000;

export interface LogShipperOptions {
  client: ServerClient;
  executionId: number;
  nodeId: number;
  /** Fires when the worker stops caring about this execution. */
  signal: AbortSignal;
  /** Called when the server refuses the lines (409: the lease is gone). */
  onStale?: () => void;
  maxBuffered?: number;
  /** Where the log holds lines already: lines are appended after them. */
  firstLine?: number;
  /** Where the lines go: the execution's log unless told (an OpenJD session's own log). */
  path?: string;
  /** Applied to each line as it is added (an OpenJD session's secrets). */
  redact?: (text: string) => string;
}

export class LogShipper {
  private buffer: Line[] = [];
  private dropped = 0;
  /** Lines the server has acknowledged: the position of the next batch in the log. */
  private sent = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: LogShipperOptions) {
    this.sent = options.firstLine ?? 0;
  }

  /** The lines of the log on the server so far, as far as this shipper knows. */
  get position(): number {
    return this.sent;
  }

  add(stream: LogStream, raw: string): void {
    if (this.closed) return;
    const text = this.options.redact ? this.options.redact(raw) : raw;
    this.buffer.push({ stream, text, time: new Date().toISOString() });
    const max = this.options.maxBuffered ?? MAX_BUFFERED_LINES;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= BATCH_LINES) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), FLUSH_MS);
  }

  /** Sends everything buffered so far; resolves when it is on the server (or given up). */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.dropped > 0 || this.sending) {
      if (this.options.signal.aborted && !this.sending) return;
      this.kick();
      await this.sending;
    }
  }

  /** No more lines will come: flush, then stop. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending) return;
    this.sending = this.sendAll().finally(() => {
      this.sending = undefined;
      if (this.buffer.length > 0 && !this.closed)
        this.timer ??= setTimeout(() => this.kick(), FLUSH_MS);
    });
  }

  private async sendAll(): Promise<void> {
    const { client, executionId, nodeId, signal } = this.options;
    while (this.buffer.length > 0 || this.dropped > 0) {
      if (this.dropped > 0) {
        this.buffer.unshift({
          stream: 'worker',
          text: `drover worker: ${this.dropped} log lines dropped while the server could not be reached`,
          time: new Date().toISOString(),
        });
        this.dropped = 0;
      }
      const batch = this.buffer.slice(0, BATCH_LINES);
      try {
        await client.request('POST', this.options.path ?? `/executions/${executionId}/logs`, {
          // The position makes a retried batch harmless: the server keeps lines it has once.
          body: { nodeId, lines: batch, firstLine: this.sent },
          signal,
          timeoutMs: 30_000,
        });
      } catch (error) {
        if (error instanceof CanceledError) return;
        if ((error as { status?: number }).status === 409) {
          this.options.onStale?.();
          this.buffer = [];
          return;
        }
        // Refused for good (e.g. 400): drop the batch rather than block the log forever.
        this.buffer.splice(0, batch.length);
        await sleep(FLUSH_MS, signal);
        continue;
      }
      this.sent += batch.length;
      // While we waited, older lines may have been dropped from the front: remove exactly
      // the lines we sent, which are still the first ones unless the buffer overflowed.
      this.removeSent(batch);
    }
  }

  private removeSent(batch: Line[]): void {
    const first = batch[0];
    const index = first === undefined ? -1 : this.buffer.indexOf(first);
    if (index === -1) {
      // All of them were pushed out while in flight; nothing to remove.
      const last = batch.at(-1);
      const lastIndex = last === undefined ? -1 : this.buffer.indexOf(last);
      if (lastIndex >= 0) this.buffer.splice(0, lastIndex + 1);
      return;
    }
    this.buffer.splice(index, batch.length);
  }
}

/**
 * Lines added to the log of an execution that has ended (an OpenJD session's onExit
 * output, openjd-sessions.ts), after the `lines` it holds; close() gives up on the lines
 * not sent `giveUpMs` after it is called.
 */
export function appendToLog(
  client: ServerClient,
  nodeId: number,
  last: { executionId: number; lines: number },
  giveUpMs: number,
): { add: (stream: LogStream, text: string) => void; close: () => Promise<void> } {
  const giveUp = new AbortController();
  const shipper = new LogShipper({
    client,
    executionId: last.executionId,
    nodeId,
    signal: giveUp.signal,
    firstLine: last.lines,
  });
  return {
    add: (stream, text) => shipper.add(stream, text),
    close: () => {
      const timer = setTimeout(() => giveUp.abort(), giveUpMs);
      return shipper.close().finally(() => clearTimeout(timer));
    },
  };
}
