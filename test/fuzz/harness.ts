/* eslint-disable @typescript-eslint/no-explicit-any -- the fuzz reads whatever a route answers */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { registeredRoutes } from '../../src/api/authorization/enforce.js';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { startDeadlineTestServer, type DeadlineTestServer } from '../api/deadline/support.js';
import type { TestDatabase } from '../helpers/databases.js';
import type { ClientThreadData, ClientThreadMessage } from './client-thread.js';
import {
  BATCH,
  drawBatch,
  requestArb,
  sendAll,
  type Face,
  type Finding,
  type FuzzPlan,
} from './requests.js';
import { seedWorld } from './world.js';

export { FACES, requestArb, send } from './requests.js';
export type { Face, Finding, FuzzRequest } from './requests.js';

/*
 * The fuzz harness: a real server (native, Scale and UFDL on one listener, Deadline on its
 * own) over a fresh database, the routes it registered grouped by face, and a seeded stream
 * of requests built from those routes with hostile paths, queries, headers and bodies. The
 * answers are sorted into fine and findings: a 5xx is a finding unless it is one of
 * Deadline's by-spec answers (a plain-text 500 naming the problem, 501 for what Deadline
 * does not implement); so is a request that gets no answer.
 */

export interface FuzzTarget extends FuzzPlan {
  t: DeadlineTestServer;
  /** Whether the server asks for credentials. */
  auth: boolean;
  /** What the server logged as an error (stack first), the last 50: the cause of a finding. */
  serverErrors: string[];
  close(): Promise<void>;
}

function faceOf(url: string): Face {
  if (/^\/v1(\/|$)/.test(url)) return 'ufdl';
  if (/^\/(v6|api\/v6|jobs|v5)(\/|$)/.test(url)) return 'scale';
  // The API document, metrics and the UI's files ride with the native face.
  return 'native';
}

export async function startFuzzTarget(
  database: TestDatabase,
  options: { auth?: boolean } = {},
): Promise<FuzzTarget> {
  const auth = options.auth ?? false;
  const t = await startDeadlineTestServer(database, { auth });
  try {
    let admin: Record<string, string> = {};
    const credentials: Record<Face, (string | undefined)[]> = {
      native: [undefined],
      scale: [undefined],
      ufdl: [undefined],
      deadline: [undefined],
    };
    if (auth) {
      await addUser(t.engine.ctx, 'fuzz-admin', 'admin', 'admin-pw');
      await addUser(t.engine.ctx, 'fuzz-user', 'user', 'user-pw');
      await addUser(t.engine.ctx, 'fuzz-node', 'node', 'node-pw');
      const bearer = async (name: string) => `Bearer ${await createToken(t.engine.ctx, name)}`;
      admin = { authorization: await bearer('fuzz-admin') };
      const basic = (u: string, p: string) =>
        `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      const common = [
        undefined,
        'Bearer drv_not-a-token',
        'Bearer ' + 'x'.repeat(10_000),
        'Bearer',
        'Basic !!!',
        basic('fuzz-user', 'wrong'),
        basic('a\u00e9', ''),
      ];
      const tokens = [admin.authorization, await bearer('fuzz-user'), await bearer('fuzz-node')];
      credentials.native = [...common, ...tokens];
      credentials.scale = [...common, ...tokens];
      credentials.ufdl = [...common, ...tokens];
      credentials.deadline = [
        ...common,
        basic('fuzz-admin', 'admin-pw'),
        basic('fuzz-user', 'user-pw'),
        basic('fuzz-node', 'node-pw'),
      ];
    }
    const world = await seedWorld(t, admin);
    const routes: FuzzTarget['routes'] = { native: [], scale: [], ufdl: [], deadline: [] };
    for (const r of registeredRoutes(t.deadlineApp)) {
      routes.deadline.push({ method: r.method, url: r.url });
    }
    for (const r of registeredRoutes(t.app)) {
      // The event stream stays open: send() takes its status line as the answer. UFDL's job
      // WebSocket is a plain GET here, since the fuzz sends no Upgrade header.
      routes[faceOf(r.url)].push({ method: r.method, url: r.url });
    }
    // The apps are built without a logger, so their error logs go nowhere; keep them, since
    // a finding's stack is on the server side.
    const serverErrors: string[] = [];
    for (const app of [t.app, t.deadlineApp]) {
      app.log.error = ((...args: unknown[]) => {
        const err = (args[0] as { err?: Error } | undefined)?.err;
        serverErrors.push(String(err?.stack ?? JSON.stringify(args)).slice(0, 2000));
        if (serverErrors.length > 50) serverErrors.shift();
      }) as typeof app.log.error;
    }
    return { t, auth, world, routes, credentials, serverErrors, close: () => t.close() };
  } catch (error) {
    await t.close();
    throw error;
  }
}

export interface FuzzResult {
  face: Face;
  requests: number;
  findings: Finding[];
  statuses: Record<string, number>;
  ms: number;
}

const CLIENT_THREAD_BOOT = `import('tsx/esm/api').then((tsx) => {
  tsx.register();
  return import(${JSON.stringify(new URL('./client-thread.ts', import.meta.url).href)});
});`;

/**
 * Sends `runs` requests to one face, `concurrency` at a time per client, drawn from `seed`.
 * The requests are sampled rather than run as a property: a finding is reported with the
 * request that made it (enough to replay it), and many in flight at once also exercise the
 * server's concurrent paths. With `threads`, that many client threads draw and send the
 * batches, leaving this thread's event loop to the server; the requests are the same.
 */
export async function fuzzFace(
  target: FuzzTarget,
  face: Face,
  options: {
    runs: number;
    seed: number;
    concurrency?: number;
    threads?: number;
    /** Called with each finding as it happens (a long run prints them at once). */
    onFinding?: (finding: Finding) => void;
    /** Called after each batch with the requests sent so far. */
    onProgress?: (sent: number, findings: number, ms: number) => void;
  },
): Promise<FuzzResult> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 4;
  const findings: Finding[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const batchDone = (count: number, batchStatuses: Record<string, number>, found: Finding[]) => {
    for (const [key, n] of Object.entries(batchStatuses)) statuses[key] = (statuses[key] ?? 0) + n;
    for (const finding of found) {
      findings.push(finding);
      options.onFinding?.(finding);
    }
    sent += count;
    options.onProgress?.(sent, findings.length, Date.now() - started);
  };
  const bases = { url: target.t.url, deadlineUrl: target.t.deadlineUrl };
  if (options.threads) {
    const data: Omit<ClientThreadData, 'nextBatch'> = {
      plan: { world: target.world, routes: target.routes, credentials: target.credentials },
      bases,
      face,
      runs: options.runs,
      seed: options.seed,
      concurrency,
    };
    const nextBatch = new SharedArrayBuffer(4);
    await Promise.all(
      Array.from(
        { length: options.threads },
        () =>
          new Promise<void>((resolve, reject) => {
            // tsx's loader is not inherited by threads on Node 20: each registers its own.
            const thread = new Worker(CLIENT_THREAD_BOOT, {
              eval: true,
              workerData: { ...data, nextBatch },
            });
            thread.on('message', (m: ClientThreadMessage) => {
              if (m.kind === 'batch') batchDone(m.sent, m.statuses, m.findings);
            });
            thread.on('error', reject);
            thread.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`fuzz client thread exited ${code}`)),
            );
          }),
      ),
    );
  } else {
    const arb = requestArb(target, face);
    for (let b = 0; sent < options.runs; b++) {
      // A batch at a time, so a big run never holds all its requests in memory at once.
      const requests = drawBatch(arb, options.seed, b, Math.min(BATCH, options.runs - sent));
      const batchStatuses: Record<string, number> = {};
      const found: Finding[] = [];
      await sendAll(bases, requests, concurrency, (status, finding) => {
        batchStatuses[String(status)] = (batchStatuses[String(status)] ?? 0) + 1;
        if (finding) found.push(finding);
      });
      batchDone(requests.length, batchStatuses, found);
    }
  }
  return { face, requests: sent, findings, statuses, ms: Date.now() - started };
}

/** A finding as one line a person can replay with curl. */
export function describeFinding(f: Finding): string {
  const r = f.request;
  const body = r.body === undefined ? '' : ` body=${JSON.stringify(r.body.slice(0, 300))}`;
  const size = r.body && r.body.length > 300 ? ` (${r.body.length} chars)` : '';
  return `${f.status} ${r.face} ${r.method} ${r.path.slice(0, 200)} [${r.route}] ct=${r.contentType ?? '-'}${body}${size} -> ${f.text.slice(0, 300)}`;
}

let healthChecks = 0;

/**
 * An admin made for the check, through the engine: the fuzz's own admin may have had its
 * tokens revoked or its settings changed by fuzzed requests (as an admin may), and a check
 * made as it would then report the fuzz's doing, not the server's health.
 */
async function adminForTheCheck(
  target: FuzzTarget,
): Promise<{ headers: Record<string, string>; basic?: string }> {
  if (!target.auth) return { headers: {} };
  const ctx = target.t.engine.ctx;
  const name = `fuzz-health-${++healthChecks}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await addUser(ctx, name, 'admin', password);
  const token = await createToken(ctx, name, 'health-check');
  return {
    headers: { authorization: `Bearer ${token}` },
    basic: 'Basic ' + Buffer.from(`${name}:${password}`).toString('base64'),
  };
}

/** The server still answers: health, and a normal submit that the list then shows. */
export async function checkHealthy(target: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const { t } = target;
  const admin = await adminForTheCheck(target);
  const headers = admin.headers;
  // The fuzz may have deactivated or revised the built-in job type, as an admin may: turn
  // it back on and back to its first definition.
  const types = await t.request('GET', '/api/v1/job-types?name=command-line', undefined, headers);
  for (const type of types.body?.items ?? []) {
    await t.request('PATCH', `/api/v1/job-types/${type.id}`, { active: true }, headers);
    const first = await t.request(
      'GET',
      `/api/v1/job-types/${type.id}/revisions/1`,
      undefined,
      headers,
    );
    if (type.revision !== 1 && first.status === 200) {
      const restored = await t.request(
        'POST',
        `/api/v1/job-types/${type.id}/revisions`,
        { definition: first.body.definition },
        headers,
      );
      if (restored.status !== 201) problems.push(`restore command-line: ${restored.status}`);
    }
  }
  const health = await t.request('GET', '/api/v1/health');
  if (health.status !== 200) problems.push(`health: ${health.status}`);
  const job = await t.request(
    'POST',
    '/api/v1/jobs',
    {
      type: 'command-line',
      name: 'after-the-fuzz',
      frames: '1-4',
      parameters: { executable: 'echo' },
    },
    headers,
  );
  if (job.status !== 201) {
    problems.push(`submit: ${job.status} ${JSON.stringify(job.body)}`);
    return problems;
  }
  const list = await t.request('GET', '/api/v1/jobs?q=after-the-fuzz', undefined, headers);
  if (list.status !== 200 || !list.body.items?.some((j: any) => j.id === job.body.id)) {
    problems.push(`list: ${list.status} ${JSON.stringify(list.body).slice(0, 300)}`);
  }
  const dl = await t.dl('GET', `/api/jobs?JobID=${job.body.id}`, undefined, {
    ...(admin.basic ? { auth: admin.basic } : {}),
  });
  if (dl.status !== 200) problems.push(`deadline get: ${dl.status} ${dl.text.slice(0, 200)}`);
  return problems;
}
