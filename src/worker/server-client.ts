import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/*
 * The worker's HTTP client for the native API. Every call retries with exponential backoff
 * (capped) while the server cannot be reached or answers 5xx, so a server restart or a
 * network blip costs a delay, never a task. A 409 means the lease is gone: the caller
 * kills the command and forgets the execution.
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
  server: string;
  token?: string | undefined;
  /** Called with a message when a request fails and will be retried. */
  onRetry?: (message: string) => void;
  /** Called once when the server answers again after failed attempts. */
  onRecovered?: (message: string) => void;
  /** Backoff bounds, ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class ServerClient {
  private readonly base: string;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly options: ServerClientOptions) {
    this.base = options.server.replace(/\/+$/, '') + '/api/v1';
    this.minDelay = options.minDelayMs ?? 200;
    this.maxDelay = options.maxDelayMs ?? 5000;
  }

  /** Sends one request, retrying on connection errors and 5xx; 204 answers undefined. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const started = Date.now();
    let delay = this.minDelay;
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted) throw new CanceledError(`${method} ${path} canceled`);
      let failure: string;
      try {
        const answer = await this.attempt<T>(method, path, options);
        if (attempt > 1) {
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          this.options.onRecovered?.(
            `the server answers again (${method} ${path} after ${seconds} s)`,
          );
        }
        return answer;
      } catch (error) {
        if (error instanceof HttpError && error.status < 500) throw error;
        if (options.signal?.aborted) throw new CanceledError(`${method} ${path} canceled`);
        failure = error instanceof Error ? describe(error) : String(error);
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

  private async attempt<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    let response: Answer;
    if (options.raw) {
      response = await sendRaw(this.base + path, method, headers, await options.raw(), signal);
    } else {
      let body: string | undefined;
      if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const res = await fetch(this.base + path, {
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
        // not JSON: keep the text
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
