import { apiErrorOf, DroverApiError, DroverClient } from '../../client/index.js';

/*
 * The command line's HTTP client for the native API (/api/v1): `api` is the typed
 * DroverClient (src/client/), checked against the server's OpenAPI document; `call` turns its
 * failures into ApiError carrying the server's message, and a refused connection into a
 * sentence that says what to do. `request`/`get`/`post` by path remain for the commands not
 * yet moved to typed calls.
 */

/** An error the command line reports as `drover: <message>` with a non-zero exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The server answered with a 4xx/5xx; `message` is the server's own `message` field. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface ClientSettings {
  server: string;
  token?: string | undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function networkCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    // undici wraps an AggregateError (IPv4 and IPv6 attempts) in `cause`.
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    e = (e as { cause?: unknown }).cause ?? inner;
  }
  return undefined;
}

/**
 * The server's base URL from what was typed: `host:port` (or a bare host) means http, as
 * `curl` reads it; a URL keeps its scheme, which must be http or https.
 */
export function serverUrl(text: string): string {
  const typed = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(typed)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new CliError(
      `--server "${text}" is not an http:// or https:// URL; give one, or host:port for http`,
    );
  }
  const full = scheme === undefined ? `http://${typed}` : typed;
  let url: URL;
  try {
    url = new URL(full);
  } catch {
    throw new CliError(`--server "${text}" is not a URL or host:port (e.g. render-01:8080)`);
  }
  if (!url.hostname) throw new CliError(`--server "${text}" names no host`);
  return full.replace(/\/+$/, '');
}

export class ApiClient {
  readonly server: string;
  private readonly token: string | undefined;
  /** The typed client; wrap its calls in `call` for the command line's errors. */
  readonly api: DroverClient;

  constructor(settings: ClientSettings) {
    this.server = serverUrl(settings.server);
    this.token = settings.token || undefined;
    this.api = new DroverClient({
      baseUrl: this.server,
      token: this.token,
      fetch: (request) => this.reach(() => fetch(request)),
    });
  }

  /** Runs a typed call; a non-2xx becomes ApiError with the server's message. */
  async call<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      if (error instanceof DroverApiError) throw this.cliErrorOf(error);
      throw error;
    }
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as string[]) params.append(key, v);
      else params.append(key, String(value));
    }
    const qs = params.toString();
    return `${this.server}/api/v1${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends a request; resolves to the parsed JSON body (undefined for 204). */
  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const response = await this.fetch(method, path, options);
    const text = await response.text();
    if (!response.ok) throw await this.errorOf(response, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the server at ${this.server} sent a reply that is not JSON`);
    }
  }

  /** The raw bytes of a GET (output contents). */
  async bytes(path: string): Promise<Buffer> {
    const response = await this.fetch('GET', path, {});
    if (!response.ok) throw await this.errorOf(response, await response.text());
    return Buffer.from(await response.arrayBuffer());
  }

  /** Like request, but a 404 resolves to undefined (for routes that may not exist yet). */
  async optional<T>(path: string, query: Query = {}): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, { query });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown = {}, query: Query = {}): Promise<T> {
    return this.request<T>('POST', path, { body, query });
  }

  /** Every item of a paged list (`{items, total}`), following offsets. */
  async all<T>(path: string, query: Query = {}, pageSize = 1000, max = Infinity): Promise<T[]> {
    const items: T[] = [];
    for (let offset = 0; items.length < max;) {
      const page = await this.get<{ items: T[]; total: number }>(path, {
        ...query,
        limit: pageSize,
        offset,
      });
      items.push(...page.items);
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) break;
    }
    return items.slice(0, max);
  }

  private async fetch(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; signal?: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (options.body !== undefined && method !== 'GET' && method !== 'DELETE') {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    return this.reach(() => fetch(this.url(path, options.query), init));
  }

  /** Sends; a connection that fails becomes a sentence that says what to do. */
  private async reach(send: () => Promise<Response>): Promise<Response> {
    try {
      return await send();
    } catch (error) {
      if (networkCode(error)) {
        throw new CliError(
          `cannot reach the Drover server at ${this.server}: is \`drover serve\` running?`,
        );
      }
      if (error instanceof TypeError) {
        const cause = (error as { cause?: unknown }).cause;
        const reason = cause instanceof Error ? cause.message : error.message;
        throw new CliError(`cannot reach the Drover server at ${this.server}: ${reason}`);
      }
      throw error;
    }
  }

  private async errorOf(response: Response, text: string): Promise<ApiError> {
    return this.cliErrorOf(await apiErrorOf(new Response(text, response)));
  }

  private cliErrorOf(error: DroverApiError): ApiError {
    const hint = error.status === 401 && !this.token ? ' (pass --token or set DROVER_TOKEN)' : '';
    return new ApiError(error.status, error.code, error.message + hint);
  }
}
