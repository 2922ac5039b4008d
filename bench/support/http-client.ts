import { Pool } from 'undici';

/*
 * The simulated nodes' keep-alive JSON client: undici's Pool, one connection per request in
 * flight (the benchmarks hold thousands of long-polls open at once).
 *
 * Not node:http, which the worker itself uses (src/worker/http-transport.ts). The nodes run
 * on the server's machine here, and what they spend is taken from the server: on 2 cores,
 * node:http's client cost 250 µs of CPU per task in the single-task protocol on SQLite (67 %
 * of a core at 2,671 tasks/s), undici's 165 µs (44 %). bench/peer.ts, 10,000 tasks, one run
 * each: single-task PostgreSQL 1,335 → 1,577 tasks/s, batched PostgreSQL 5,751 → 6,552;
 * SQLite, whose server was then the bottleneck, did not move. On a farm the nodes are other
 * machines, and the server's figures should not depend on what its clients cost. With no
 * database behind the server (bench/protocol-floor.ts), node:http's nodes held Fastify to
 * 3,400 tasks/s single-task, undici's to 7,000–8,000.
 */

export interface Answer<T> {
  status: number;
  body: T;
}

export class HttpClient {
  readonly #pool: Pool;
  readonly #prefix: string;

  constructor(
    readonly base: string,
    /** Connections at most: one per request in flight. */
    maxSockets = 256,
  ) {
    const url = new URL(base);
    this.#prefix = url.pathname.replace(/\/$/, '');
    this.#pool = new Pool(url.origin, { connections: maxSockets, pipelining: 1 });
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.#pool.request({
      method: method as 'GET',
      path: this.#prefix + path,
      headers: payload ? { 'content-type': 'application/json' } : {},
      body: payload,
    });
    const text = await res.body.text();
    try {
      return { status: res.statusCode, body: (text ? JSON.parse(text) : {}) as T };
    } catch (error) {
      throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`, {
        cause: error,
      });
    }
  }

  /** A request whose answer must have the status `expected`; anything else throws. */
  async expect<T = Record<string, unknown>>(
    expected: number,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const answer = await this.request<T>(method, path, body);
    if (answer.status !== expected) {
      throw new Error(
        `${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    return answer.body;
  }

  close(): void {
    void this.#pool.destroy();
  }
}
