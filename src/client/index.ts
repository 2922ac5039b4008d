/*
 * DroverClient: a typed client of Drover's native API (/api/v1), for programs, the command
 * line and the web UI. Its types are generated from the server's own OpenAPI document
 * (src/client/openapi-types.ts, by scripts/generate-client-types.ts), and openapi-fetch
 * sends the requests, so a path, a query parameter or a body field the server does not
 * take fails to compile.
 *
 *   const drover = new DroverClient({ baseUrl: 'http://render-01:8080', token });
 *   const job = await drover.get('/api/v1/jobs/{id}', { params: { path: { id: 7 } } });
 *
 * A 2xx resolves to the body; any other status rejects with DroverApiError carrying the
 * server's own message.
 */
import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type FetchResponse,
  type MaybeOptionalInit,
} from 'openapi-fetch';
import type { components, paths } from './openapi-types.js';

export type { components, paths } from './openapi-types.js';

/** The named schemas of the native API (Job, Task, Execution, Node, JobType, Output). */
export type Schemas = components['schemas'];

/** The server answered outside 2xx; `message` is the server's own `message` field. */
export class DroverApiError extends Error {
  constructor(
    readonly status: number,
    /** The error code from the server's registry (VALIDATION, NOT_FOUND, …), else HTTP_<status>. */
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DroverApiError';
  }
}

export interface DroverClientOptions {
  /** The server, e.g. `http://render-01:8080` (no `/api/v1`); '' in a browser on the same origin. */
  baseUrl: string;
  /**
   * A token from `drover token create`; sent as `Authorization: Bearer …`. A function is
   * asked before each request (a browser whose user logs in and out).
   */
  token?: string | undefined | (() => string | null | undefined);
  /** Another fetch (tests, proxies); globalThis.fetch unless given. */
  fetch?: (request: Request) => Promise<Response>;
}

type Api = Client<paths>;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type InitArg<I> = RequiredKeys<I> extends never ? [init?: I] : [init: I];
type Media = `${string}/${string}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- openapi-fetch's own constraint
type Data<Op extends Record<string | number, any>, I> = FetchResponse<Op, I, Media>['data'];
/** The body of a 2xx: undefined only for the routes that answer 204. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
type Body<Op extends Record<string | number, any>, I> = [Exclude<Data<Op, I>, undefined>] extends [
  never,
]
  ? undefined
  : Exclude<Data<Op, I>, undefined>;

/** The error an answer outside 2xx becomes, read from the native error body. */
export async function apiErrorOf(response: Response): Promise<DroverApiError> {
  const text = await response.text().catch(() => '');
  let code = `HTTP_${response.status}`;
  let message = `the server answered ${response.status} ${response.statusText}`.trim();
  let details: Record<string, unknown> = {};
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; details?: unknown };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string' && body.message) message = body.message;
    if (body.details && typeof body.details === 'object') {
      details = body.details as Record<string, unknown>;
    }
  } catch {
    // not JSON (a proxy's page): keep the status line
  }
  return new DroverApiError(response.status, code, message, details);
}

export class DroverClient {
  /** The openapi-fetch client underneath, for what the methods below do not cover. */
  readonly raw: Api;
  readonly baseUrl: string;

  constructor(options: DroverClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.raw = createClient<paths>({
      baseUrl: this.baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const token = options.token;
    this.raw.use({
      onRequest({ request }) {
        const value = typeof token === 'function' ? token() : token;
        if (value) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
      async onResponse({ response }) {
        if (!response.ok) throw await apiErrorOf(response);
        return undefined;
      },
    });
  }

  async get<
    P extends ClientPathsWithMethod<Api, 'get'>,
    I extends MaybeOptionalInit<paths[P], 'get'>,
  >(path: P, ...init: InitArg<I>): Promise<Body<paths[P]['get'], I>> {
    const result = await this.raw.GET(path, ...(init as [never]));
    return result.data as Body<paths[P]['get'], I>;
  }

  async post<
    P extends ClientPathsWithMethod<Api, 'post'>,
    I extends MaybeOptionalInit<paths[P], 'post'>,
  >(path: P, ...init: InitArg<I>): Promise<Body<paths[P]['post'], I>> {
    const result = await this.raw.POST(path, ...(init as [never]));
    return result.data as Body<paths[P]['post'], I>;
  }

  async patch<
    P extends ClientPathsWithMethod<Api, 'patch'>,
    I extends MaybeOptionalInit<paths[P], 'patch'>,
  >(path: P, ...init: InitArg<I>): Promise<Body<paths[P]['patch'], I>> {
    const result = await this.raw.PATCH(path, ...(init as [never]));
    return result.data as Body<paths[P]['patch'], I>;
  }

  async delete<
    P extends ClientPathsWithMethod<Api, 'delete'>,
    I extends MaybeOptionalInit<paths[P], 'delete'>,
  >(path: P, ...init: InitArg<I>): Promise<Body<paths[P]['delete'], I>> {
    const result = await this.raw.DELETE(path, ...(init as [never]));
    return result.data as Body<paths[P]['delete'], I>;
  }
}
