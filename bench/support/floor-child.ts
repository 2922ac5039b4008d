/*
 * The floor of Drover's node protocols: a server in a process of its own that answers the
 * protocol's routes with no database and no engine behind them, replaying answers a real
 * Drover server gave. It is a measuring instrument for bench/protocol-floor.ts, not a
 * server of anything: what a client pays, and what the HTTP layer alone costs a server, for
 * one task.
 *
 * It hands out `tasks` tasks (a claim counts its orders), then answers acquires and claims
 * with nothing, after 1 s, as a long-poll that sat out its wait would.
 */
import http from 'node:http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export interface FloorBodies {
  acquire: string;
  start: string;
  finish: string;
  /** A claim's answer with `batch` orders; with them and the last batch's finishes; with finishes only. */
  claim: string;
  claimWithFinishes: string;
  finishesOnly: string;
  batch: number;
}

export interface FloorSetup {
  server: 'fastify' | 'http';
  bodies: FloorBodies;
}

if (!process.send) throw new Error('floor-child.ts runs forked, with an IPC channel');

let handedOut = 0;
let limit = 0;
let bodies!: FloorBodies;

type Answer = { status: number; body?: string };
const idle = (answer: Answer): Promise<Answer> =>
  new Promise((resolve) => setTimeout(() => resolve(answer), 1000));

function acquire(): Promise<Answer> | Answer {
  if (handedOut >= limit) return idle({ status: 204 });
  handedOut++;
  return { status: 200, body: bodies.acquire };
}

function claim(finishes: boolean): Promise<Answer> | Answer {
  if (handedOut >= limit) {
    // Finishes are answered at once, with no orders; a bare claim waits as a long-poll.
    return finishes
      ? { status: 200, body: bodies.finishesOnly }
      : idle({ status: 200, body: '{"orders":[]}' });
  }
  handedOut += bodies.batch;
  return { status: 200, body: finishes ? bodies.claimWithFinishes : bodies.claim };
}

/** What each of the four paths Drover's node protocol serves answers, by its route. */
const ROUTES: {
  path: string;
  pattern: RegExp;
  answer: (body: unknown) => Promise<Answer> | Answer;
}[] = [
  {
    path: '/api/v1/nodes/:id/acquire',
    pattern: /^\/api\/v1\/nodes\/\d+\/acquire/,
    answer: acquire,
  },
  {
    path: '/api/v1/executions/:id/start',
    pattern: /^\/api\/v1\/executions\/\d+\/start$/,
    answer: () => ({ status: 200, body: bodies.start }),
  },
  {
    path: '/api/v1/executions/:id/finish',
    pattern: /^\/api\/v1\/executions\/\d+\/finish$/,
    answer: () => ({ status: 200, body: bodies.finish }),
  },
  {
    path: '/api/v1/nodes/:id/claims',
    pattern: /^\/api\/v1\/nodes\/\d+\/claims$/,
    answer: (body) => {
      const finishes = (body as { finishes?: unknown[] } | undefined)?.finishes;
      return claim(Array.isArray(finishes) && finishes.length > 0);
    },
  },
];

async function listen(setup: FloorSetup): Promise<string> {
  if (setup.server === 'fastify') {
    const app = Fastify({ logger: false });
    // Fastify's router has found the route: its answer is called directly.
    for (const { path, answer } of ROUTES) {
      app.post(path, async (request: FastifyRequest, reply: FastifyReply) => {
        const { status, body } = await answer(request.body);
        return reply.code(status).type('application/json').send(body);
      });
    }
    return app.listen({ host: '127.0.0.1', port: 0 });
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const found = req.method === 'POST' && ROUTES.find((r) => r.pattern.test(req.url ?? ''));
      const body: unknown = text ? JSON.parse(text) : undefined;
      void Promise.resolve(found ? found.answer(body) : { status: 404 }).then((answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

process.on('disconnect', () => process.exit(0));
process.on('message', (message: { setup?: FloorSetup; tasks?: number } | string) => {
  if (message === 'close') process.exit(0);
  if (typeof message !== 'object') return;
  if (message.setup) {
    bodies = message.setup.bodies;
    void listen(message.setup).then((url) => process.send!({ url }));
  }
  if (message.tasks !== undefined) {
    // A new drain: `tasks` more to hand out.
    handedOut = 0;
    limit = message.tasks;
    process.send!({ ready: message.tasks });
  }
});
