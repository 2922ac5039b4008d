import { DroverApiError, DroverClient } from '../../../src/client/index';

/*
 * The UI's client of the native API: DroverClient (src/client/), typed from the server's
 * OpenAPI document, on this page's origin. Every failure becomes an ApiError whose message a
 * person can act on; the token (when the server has auth on) is kept in localStorage.
 */

const TOKEN_KEY = 'drover.token';

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  for (const listener of tokenListeners) listener();
}

const tokenListeners = new Set<() => void>();
export function onTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

const authListeners = new Set<(message: string) => void>();
/** Told whenever the server answers 401, so the app can show its login form. */
export function onUnauthenticated(listener: (message: string) => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The field a 400 is about: details.field, or the property Ajv names ("body/chunkSize …"). */
function fieldOf(error: DroverApiError): string | undefined {
  const field = error.details['field'];
  if (typeof field === 'string') return field;
  return error.message.match(/^body\/([A-Za-z]+)/)?.[1];
}

export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The typed client; its calls go through `call` for the UI's errors. */
export const drover = new DroverClient({ baseUrl: location.origin, token: getToken });

/** Runs a DroverClient call, turning its failures into the UI's ApiError. */
export async function call<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof DroverApiError) {
      if (error.status === 401) for (const listener of authListeners) listener(error.message);
      throw new ApiError(error.status, error.code, error.message, fieldOf(error));
    }
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(
      0,
      'UNREACHABLE',
      `Cannot reach the Drover server at ${location.origin}. Check that \`drover serve\` is running, then retry.`,
    );
  }
}

/**
 * An untyped request by path (under /api/v1), for a route the generated types do not name
 * yet; prefer `call(drover.get(…))`, which the compiler checks against the server's schemas.
 */
export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  init: { signal?: AbortSignal } = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        ...authHeaders(),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(
      0,
      'UNREACHABLE',
      `Cannot reach the Drover server at ${location.origin}. Check that \`drover serve\` is running, then retry.`,
    );
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const errorBody = (parsed ?? {}) as {
      error?: string;
      message?: string;
      details?: Record<string, unknown>;
    };
    const error = new DroverApiError(
      response.status,
      errorBody.error ?? `HTTP_${response.status}`,
      errorBody.message ?? `The server answered ${response.status} ${response.statusText}.`,
      errorBody.details ?? {},
    );
    return call(Promise.reject(error));
  }
  return parsed as T;
}

/** Builds a query string, leaving out empty values; arrays become comma lists. */
export function query(params: Record<string, string | number | boolean | undefined | string[]>) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
      continue;
    }
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Downloads a file through fetch, so the Authorization header goes with it. */
export async function download(path: string, fileName: string): Promise<void> {
  const response = await fetch(`/api/v1${path}`, { headers: authHeaders() });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    throw new ApiError(
      response.status,
      'DOWNLOAD',
      body.message ?? `download failed (${response.status})`,
    );
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
