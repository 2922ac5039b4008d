import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { WebSocket } from 'ws';
import type { PermissionConfig } from '../authorization/enforce.js';
import { UfdlError } from './errors.js';

/*
 * UFDL's router: every route takes an optional trailing slash (except the two outputs
 * routes), and a method a route does not map is 405 with DRF's message.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

interface Entry {
  handler: Handler;
  bodyLimit?: number;
  wsHandler?: (socket: WebSocket, request: FastifyRequest) => void | Promise<void>;
  preHandler?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

export class RouteTable {
  readonly #paths = new Map<string, { slash: boolean; methods: Map<Method, Entry> }>();

  add(
    method: Method,
    path: string,
    entry: Entry | Handler,
    options: { slash?: boolean } = {},
  ): void {
    const e = typeof entry === 'function' ? { handler: entry } : entry;
    const at = this.#paths.get(path) ?? { slash: options.slash ?? true, methods: new Map() };
    at.methods.set(method, e);
    this.#paths.set(path, at);
  }

  /** Lets GET `path` upgrade to a WebSocket; `gate` may refuse the handshake by replying. */
  attachSocket(path: string, wsHandler: Entry['wsHandler'], gate: Entry['preHandler']): void {
    const get = this.#paths.get(path)?.methods.get('GET');
    if (!get) throw new Error(`no GET ${path} to attach a socket to`);
    get.wsHandler = wsHandler;
    get.preHandler = gate;
  }

  register(app: FastifyInstance): void {
    for (const [path, { slash, methods }] of this.#paths) {
      const urls = slash ? [path, `${path}/`] : [path];
      for (const url of urls) {
        for (const [method, e] of methods) {
          const route: RouteOptions = {
            method,
            url,
            handler: e.handler,
            ...(e.bodyLimit !== undefined ? { bodyLimit: e.bodyLimit } : {}),
            ...(e.preHandler ? { preHandler: e.preHandler } : {}),
          };
          if (e.wsHandler && url === path) {
            (route as RouteOptions & { wsHandler: unknown }).wsHandler = e.wsHandler;
          }
          app.route(route);
        }
        const others = METHODS.filter((m) => !methods.has(m));
        if (others.length > 0) {
          app.route({
            method: others,
            url,
            config: { methodNotAllowed: true } satisfies PermissionConfig,
            handler: async (request) => {
              throw new UfdlError(405, `Method "${request.method}" not allowed.`);
            },
          });
        }
      }
    }
  }
}
