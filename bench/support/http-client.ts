import http from 'node:http';

/*
 * A small keep-alive JSON client over node:http. The benchmarks hold thousands of long-polls
 * open at once; fetch's global agent would need undici to be configured for that, and
 * reusing connections keeps connection set-up out of the figures.
 */

export interface Answer<T> {
  status: number;
  body: T;
}

export class HttpClient {
  readonly #agent: http.Agent;

  constructor(
    readonly base: string,
    maxSockets = 256,
  ) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        this.base + path,
        {
          method,
          agent: this.#agent,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
            } catch (error) {
              reject(
                new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`, {
                  cause: error,
                }),
              );
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
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
    this.#agent.destroy();
  }
}
