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
  /** A raw body (an output file); sent as application/octet-stream. */
  raw?: () => Uint8Array | Promise<Uint8Array>;
  /** Stop retrying (and abort the request in flight) when this fires. */
  signal?: AbortSignal;
  /** Give up after this many ms of failed attempts; default: never. */
  retryForMs?: number;
  /** Per-attempt timeout, ms. */
  timeoutMs?: number;
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
    let body: string | Uint8Array | undefined;
    if (options.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = await options.raw();
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
    const response = await fetch(this.base + path, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
    });
    const text = await response.text();
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
