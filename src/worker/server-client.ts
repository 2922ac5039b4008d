import { send, type Answer, type RawBody } from './http-transport.js';
import { osResolver, ServerTargets, type Resolver, type Target } from './server-addresses.js';

export type { RawBody } from './http-transport.js';
export type { Resolver } from './server-addresses.js';

/*
 * The worker's HTTP client for the native API. Every call retries with exponential backoff
 * (capped) while the server cannot be reached or answers 5xx, so a server restart or a
 * network blip costs a delay, never a task. A 409 means the lease is gone: the caller
 * kills the command and forgets the execution.
 *
 * Given several servers (replicas on one PostgreSQL database), it talks to one at a time
 * and moves to the next, round robin, when a call cannot reach it, times out or gets a
 * 502/503/504 (a balancer or a replica that is going away): the replicas share the
 * database, so a lease taken through one is renewed and finished through any other. A
 * server whose name resolves to several addresses is failed over address by address
 * (server-addresses.ts).
 */

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The server refused a report: the execution is no longer ours. */
export class StaleLeaseError extends HttpError {
  override name = 'StaleLeaseError';
}

/** The caller gave up (the worker is stopping, or the execution was withdrawn). */
export class CanceledError extends Error {
  override name = 'CanceledError';
}

export interface RequestOptions {
  body?: unknown;
  /**
   * A raw body (an output file), opened again for each attempt and streamed as
   * application/octet-stream with its length, so a file of any size is never held whole.
   */
  raw?: () => Promise<RawBody>;
  /** Stop retrying (and abort the request in flight) when this fires. */
  signal?: AbortSignal;
  /** Give up after this many ms of failed attempts; default: never. */
  retryForMs?: number;
  /** Per-attempt timeout, ms. */
  timeoutMs?: number;
  /**
   * Called as each attempt goes out. A caller that counts from the sending (a claim's lease
   * fence) counts from the attempt that got through, not from the first of a retried call.
   */
  onAttempt?: () => void;
}

export interface ServerClientOptions {
  /** One server, or the replicas of one farm in order of preference. */
  servers: readonly string[];
  token?: string | undefined;
  /** Called with a message when a request fails and will be retried. */
  onRetry?: (message: string) => void;
  /** Called once when the server answers again after failed attempts. */
  onRecovered?: (message: string) => void;
  /** Called when the client moves to the next server. */
  onFailover?: (message: string) => void;
  /** Backoff bounds, ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Resolves a server's host name to its addresses; default: the OS resolver. */
  resolve?: Resolver;
}

/** Answers that say "this server, not the request": another replica may well answer. */
const FAIL_OVER_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export class ServerClient {
  private readonly targets: ServerTargets;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly options: ServerClientOptions) {
    if (options.servers.length === 0) throw new Error('no server given');
    const servers = options.servers.map((s) => s.replace(/\/+$/, ''));
    this.targets = new ServerTargets(servers, options.resolve ?? osResolver, options.onRetry);
    this.minDelay = options.minDelayMs ?? 200;
    this.maxDelay = options.maxDelayMs ?? 5000;
  }

  /** The server calls go to now (and its address, when its name has several). */
  get server(): string {
    return this.targets.now.label;
  }

  /** Sends one request, retrying on connection errors and 5xx; 204 answers undefined. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const started = Date.now();
    let delay = this.minDelay;
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted) throw new CanceledError(`${method} ${path} canceled`);
      let failure: string;
      await this.targets.ready();
      const used = this.targets.now;
      try {
        options.onAttempt?.();
        const answer = await this.attempt<T>(used, method, path, options);
        if (attempt > 1) {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          this.options.onRecovered?.(
            `the server answers again (${method} ${path} on ${used.label} after ${seconds} s)`,
          );
        }
        return answer;
      } catch (error) {
        if (error instanceof HttpError && error.status < 500) throw error;
        if (options.signal?.aborted) throw new CanceledError(`${method} ${path} canceled`);
        failure = error instanceof Error ? describe(error) : String(error);
        // A 500 is this request's trouble, which another replica would share; anything
        // else (no connection, a timeout, a balancer's 502/503/504) is the server's.
        if (!(error instanceof HttpError) || FAIL_OVER_STATUSES.has(error.status)) {
          const moved = this.targets.failOver(used, failure);
          if (moved) this.options.onFailover?.(moved);
        }
      }
      if (options.retryForMs !== undefined && Date.now() - started >= options.retryForMs) {
        throw new Error(`${method} ${path} failed: ${failure}`);
      }
      if (attempt === 1 || attempt % 10 === 0) {
        this.options.onRetry?.(`${method} ${path} failed (${failure}); retrying`);
      }
      await sleep(delay * (0.75 + Math.random() * 0.5), options.signal);
      delay = Math.min(delay * 2, this.maxDelay);
    }
  }

  private async attempt<T>(
    target: Target,
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<T> {
    const url = `${target.server}/api/v1${path}`;
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    let body: string | RawBody | undefined;
    if (options.raw) body = await options.raw();
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response: Answer = await send(url, method, headers, body, target.agent, signal);
    const { text } = response;
    if (response.status >= 400) {
      let code = 'HTTP';
      let message = text || response.statusText;
      try {
        const parsed = JSON.parse(text) as { error?: string; message?: string };
        code = parsed.error ?? code;
        message = parsed.message ?? message;
      } catch {
        // Not JSON: a proxy's error page, say. Its status line says enough; the page, line
        // by line, would fill the log.
        const line = text.replace(/\s+/g, ' ').trim();
        message = line === '' || line.startsWith('<') ? response.statusText : line.slice(0, 200);
      }
      const Kind = response.status === 409 ? StaleLeaseError : HttpError;
      throw new Kind(response.status, code, `${response.status} ${code}: ${message}`);
    }
    if (response.status === 204 || text === '') return undefined as T;
    return JSON.parse(text) as T;
  }
}

function describe(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${error.message}: ${cause.code}`;
  return cause?.message ? `${error.message}: ${cause.message}` : error.message;
}

/** Waits `ms`, or less when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
