import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/*
 * The worker's HTTP client for the native API. Every call retries with exponential backoff
 * (capped) while the server cannot be reached or answers 5xx, so a server restart or a
 * network blip costs a delay, never a task. A 409 means the lease is gone: the caller
 * kills the command and forgets the execution.
 *
 * Given several servers (replicas on one PostgreSQL database), it talks to one at a time
 * and moves to the next, round robin, when a call cannot reach it, times out or gets a
 * 502/503/504 (a balancer or a replica that is going away): the replicas share the
 * database, so a lease taken through one is renewed and finished through any other.
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
}

export interface RawBody {
  stream: Readable;
  length: number;
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
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
}

/** Answers that say "this server, not the request": another replica may well answer. */
const FAIL_OVER_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export class ServerClient {
  private readonly servers: readonly string[];
  private current = 0;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly options: ServerClientOptions) {
    if (options.servers.length === 0) throw new Error('no server given');
    this.servers = options.servers.map((s) => s.replace(/\/+$/, ''));
    this.minDelay = options.minDelayMs ?? 200;
    this.maxDelay = options.maxDelayMs ?? 5000;
  }

  /** The server calls go to now. */
  get server(): string {
    return this.servers[this.current]!;
  }

  /**
   * Moves to the next server after a call to `failed` could not get through, unless a
   * concurrent call has already moved on (two calls failing together must not skip one).
   */
  private failOver(failed: number, why: string): void {
    if (this.servers.length < 2 || this.current !== failed) return;
    this.current = (failed + 1) % this.servers.length;
    this.options.onFailover?.(
      `${this.servers[failed]} failed (${why}); moving to ${this.servers[this.current]}`,
    );
  }

  /** Sends one request, retrying on connection errors and 5xx; 204 answers undefined. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const started = Date.now();
    let delay = this.minDelay;
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted) throw new CanceledError(`${method} ${path} canceled`);
      let failure: string;
      const used = this.current;
      try {
        const answer = await this.attempt<T>(this.servers[used]!, method, path, options);
        if (attempt > 1) {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          this.options.onRecovered?.(
            `the server answers again (${method} ${path} on ${this.servers[used]} after ${seconds} s)`,
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
          this.failOver(used, failure);
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
    server: string,
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<T> {
    const url = `${server}/api/v1${path}`;
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    let response: Answer;
    if (options.raw) {
      response = await sendRaw(url, method, headers, await options.raw(), signal);
    } else {
      let body: string | undefined;
      if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(signal ? { signal } : {}),
      });
      response = { status: res.status, statusText: res.statusText, text: await res.text() };
    }
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

/**
 * A raw body over node:http, piped with backpressure: fetch (undici, Node 20) read a file
 * stream ahead of the socket and held about the whole file in memory however it was given.
 */
function sendRaw(
  url: string,
  method: string,
  headers: Record<string, string>,
  raw: RawBody,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  const request = (url.startsWith('https:') ? https : http).request(url, {
    method,
    headers: {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': String(raw.length),
    },
    ...(signal ? { signal } : {}),
  });
  // A file that changed size while it was sent fails the attempt rather than hanging it.
  (request as { strictContentLength?: boolean }).strictContentLength = true;
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('error', reject);
  });
  // The server may answer (a 409, a 413) before it has read the whole file and close the
  // connection; its answer is what counts then, not the write that failed.
  const sent = pipeline(raw.stream, request).catch(() => undefined);
  return Promise.all([answer, sent])
    .then(([a]) => a)
    .finally(() => raw.stream.destroy());
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
