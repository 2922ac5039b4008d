/* eslint-disable @typescript-eslint/no-explicit-any -- the fuzz reads whatever a route answers */
import http from 'node:http';
import fc from 'fast-check';
import { registeredRoutes } from '../../src/api/authorization/enforce.js';
import { addUser, createToken } from '../../src/engine/accounts.js';
import { startDeadlineTestServer, type DeadlineTestServer } from '../api/deadline/support.js';
import type { TestDatabase } from '../helpers/databases.js';
import {
  contentType,
  hostileScalar,
  hostileValue,
  jsonText,
  nearValid,
  rawBody,
  type Template,
} from './inputs.js';
import { seedWorld, type World } from './world.js';

/*
 * The fuzz harness: a real server (native, Scale and UFDL on one listener, Deadline on its
 * own) over a fresh database, the routes it registered grouped by face, and a seeded stream
 * of requests built from those routes with hostile paths, queries, headers and bodies. The
 * answers are sorted into fine and findings: a 5xx is a finding unless it is one of
 * Deadline's by-spec answers (a plain-text 500 naming the problem, 501 for what Deadline
 * does not implement); so is a request that gets no answer.
 */

export type Face = 'native' | 'scale' | 'ufdl' | 'deadline';
export const FACES: Face[] = ['native', 'scale', 'ufdl', 'deadline'];

export interface FuzzRequest {
  face: Face;
  /** The registered route, e.g. `POST /api/v1/jobs/:id/:action`. */
  route: string;
  method: string;
  path: string;
  contentType?: string | undefined;
  authorization?: string | undefined;
  body?: string | undefined;
}

export interface Finding {
  request: FuzzRequest;
  status: number | 'no answer';
  text: string;
}

export interface FuzzTarget {
  t: DeadlineTestServer;
  world: World;
  routes: Record<Face, { method: string; url: string }[]>;
  /** Authorization headers to draw from (with auth on: none, wrong, user's, admin's). */
  credentials: Record<Face, (string | undefined)[]>;
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
    return { t, world, routes, credentials, serverErrors, close: () => t.close() };
  } catch (error) {
    await t.close();
    throw error;
  }
}

const HOSTILE_SEGMENTS = [
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x1',
  '3000000000',
  '9223372036854775808',
  '99999999999999999999',
  'NaN',
  'abc',
  '%00',
  '%zz',
  '%F0%9F%98%80',
  '%ED%A0%80',
  '..',
  '%2e%2e%2f',
  '%20',
  'x'.repeat(3000),
  '000000000000000000000001',
  'ffffffffffffffffffffffff',
  '1_0',
];

const QUERY_KEYS = [
  'limit',
  'offset',
  'page',
  'page_size',
  'order',
  'state',
  'status',
  'job',
  'jobId',
  'job_id',
  'job_type_id',
  'job_type_name',
  'batch_id',
  'error_category',
  'is_active',
  'is_superseded',
  'started',
  'ended',
  'name',
  'topic',
  'wait',
  'user',
  'deleted',
  'format',
  'cursor',
  'JobID',
  'TaskID',
  'Data',
  'States',
  'IdOnly',
  'Details',
  'Statistics',
  'Deleted',
  'Purge',
  'ReportID',
  'keys',
  'minutes',
  'getAll',
  'x',
];

function segment(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...world.pathValues) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    { weight: 1, arbitrary: fc.nat().map(String) },
  );
}

/** A concrete path for a registered URL: `:id(^\d+)` and `*` filled. */
function pathArb(url: string, world: World): fc.Arbitrary<string> {
  let pattern = '';
  let depth = 0;
  for (const ch of url) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) pattern += ch;
  }
  const holes = pattern.match(/:\w+|\*/g) ?? [];
  return fc
    .array(segment(world), { minLength: holes.length, maxLength: holes.length })
    .map((values) => {
      let i = 0;
      return pattern.replace(/:\w+|\*/g, () => values[i++]!);
    });
}

/**
 * A value as query text, percent-encoded; a lone surrogate as the bytes UTF-8 forbids. At
 * most 4,000 characters: past Node's 16 KB of head the answer is Node's own 431.
 */
function queryValue(v: unknown): string {
  const text = (typeof v === 'string' ? v : jsonText(v)).slice(0, 4000);
  return text.replace(/[^]/gu, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  });
}

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom(...QUERY_KEYS),
          fc.oneof(
            hostileScalar,
            fc.constantFrom<unknown>('1', '10', '-id', 'QUEUED', 'true', 'all', '0'),
          ),
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((pairs) => '?' + pairs.map(([k, v]) => `${k}=${queryValue(v)}`).join('&')),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '?%zz=1',
      '?limit=1&limit=2',
      '?limit[]=1',
      '?offset=9223372036854775808',
      '?page=99999999999999999999',
      '?JobID=' + 'a,'.repeat(5000),
      '?' + 'a=1&'.repeat(2000),
    ),
  },
);

function bodyArb(templates: readonly Template[]): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 8, arbitrary: nearValid(templates).map(jsonText) },
    { weight: 3, arbitrary: hostileValue.map(jsonText) },
    { weight: 2, arbitrary: rawBody },
  );
}

/** Requests to one face, drawn from the routes that face registered. */
export function requestArb(target: FuzzTarget, face: Face): fc.Arbitrary<FuzzRequest> {
  const { world } = target;
  const routes = target.routes[face];
  const keyOf = (route: { method: string; url: string }) =>
    `${route.method} ${route.url.replace(/\(.*?\)/g, '')}`;
  // Routes that take a body a valid request is known for are where the deep code is.
  const weighted = routes.map((route) => ({
    weight: world.templates[keyOf(route)] ? 4 : 1,
    arbitrary: fc.constant(route),
  }));
  return fc.oneof(...weighted).chain((route) => {
    const key = keyOf(route);
    const templates = world.templates[key] ?? world.faceTemplates[face];
    const sendsBody = !['GET', 'HEAD', 'OPTIONS'].includes(route.method);
    return fc
      .record({
        path: pathArb(route.url, world),
        query: queryArb,
        body: sendsBody
          ? bodyArb(templates)
          : // A small body only: Node's server cuts its answer short when it does not read
            // a large body of a GET (it answers first), whatever the application does.
            fc.oneof(
              { weight: 9, arbitrary: fc.constant(undefined) },
              { weight: 1, arbitrary: rawBody.filter((b) => b.length < 10_000) },
            ),
        contentType,
        authorization: fc.constantFrom(...target.credentials[face]),
      })
      .map((r): FuzzRequest => ({
        face,
        route: key,
        method: route.method,
        path: r.path + r.query,
        contentType: r.body === undefined ? undefined : r.contentType,
        authorization: r.authorization,
        body: r.body,
      }));
  });
}

interface Answer {
  status: number;
  type: string | undefined;
  text: string;
}

/**
 * One request over node:http rather than fetch: fetch refuses a GET with a body and
 * normalises `..` and `%2e` out of paths, and both are input the fuzz means to send. Each
 * on a connection of its own, so that one answer that ends its connection early (a 413
 * before the body is read) cannot cut another request short.
 */
function exchange(base: string, request: FuzzRequest): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.authorization !== undefined) headers.authorization = request.authorization;
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + request.path,
      { method: request.method, headers, agent: false, timeout: 70_000 },
      (res) => {
        const type = res.headers['content-type'];
        if (type?.startsWith('text/event-stream')) {
          // A stream stays open: its status line is the answer.
          res.destroy();
          resolve({ status: res.statusCode ?? 0, type, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // A long-poll may wait up to 60 s by design; an answer later than that is a hang.
    req.on('timeout', () => req.destroy(new Error('no answer within 70 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Deadline's own 5xx: a plain-text message naming the problem, as the seed describes. */
function byDeadlineSpec(answer: Answer): boolean {
  if (!answer.type?.startsWith('text/plain')) return false;
  if (answer.status === 501) return true;
  // The catch-all "exception within the Deadline code" is what an unexpected error becomes.
  return (
    answer.status === 500 &&
    answer.text.startsWith('Error: ') &&
    !/exception occurred/.test(answer.text)
  );
}

/** Sends one request; a finding if the answer is a 5xx not by spec, or there is none. */
export async function send(
  target: FuzzTarget,
  request: FuzzRequest,
): Promise<{ finding?: Finding; status: number | 'no answer' }> {
  const base = request.face === 'deadline' ? target.t.deadlineUrl : target.t.url;
  let answer: Answer;
  try {
    answer = await exchange(base, request);
  } catch (first) {
    // The server may answer and close before a large body is written (413, 401): the
    // write then fails with ECONNRESET or EPIPE. Once more; a second failure is a finding.
    try {
      answer = await exchange(base, request);
    } catch (error) {
      const text = `${String(first)}; again: ${String(error)}`;
      return { finding: { request, status: 'no answer', text }, status: 'no answer' };
    }
  }
  const { status } = answer;
  if (status < 500 || (request.face === 'deadline' && byDeadlineSpec(answer))) return { status };
  return { finding: { request, status, text: answer.text.slice(0, 500) }, status };
}

export interface FuzzResult {
  face: Face;
  requests: number;
  findings: Finding[];
  statuses: Record<string, number>;
  ms: number;
}

/**
 * Sends `runs` requests to one face, `concurrency` at a time, drawn from `seed`. The
 * requests are sampled rather than run as a property: a finding is reported with the
 * request that made it (enough to replay it), and many in flight at once also exercise the
 * server's concurrent paths.
 */
export async function fuzzFace(
  target: FuzzTarget,
  face: Face,
  options: {
    runs: number;
    seed: number;
    concurrency?: number;
    batch?: number;
    /** Called with each finding as it happens (a long run prints them at once). */
    onFinding?: (finding: Finding) => void;
    /** Called after each batch with the requests sent so far. */
    onProgress?: (sent: number, findings: number, ms: number) => void;
  },
): Promise<FuzzResult> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 4;
  const batch = options.batch ?? 500;
  const arb = requestArb(target, face);
  const findings: Finding[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  for (let b = 0; sent < options.runs; b++) {
    const count = Math.min(batch, options.runs - sent);
    // One seed per batch, so a big run never holds all its requests in memory at once.
    const requests = fc.sample(arb, { seed: options.seed + b * 7919, numRuns: count });
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const { finding, status } = await send(target, request);
        const key = String(status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (finding) {
          findings.push(finding);
          options.onFinding?.(finding);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    sent += count;
    options.onProgress?.(sent, findings.length, Date.now() - started);
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

/** The server still answers: health, and a normal submit that the list then shows. */
export async function checkHealthy(target: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const { t } = target;
  const headers = target.world.adminHeaders;
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
    ...(headers.authorization
      ? { auth: 'Basic ' + Buffer.from('fuzz-admin:admin-pw').toString('base64') }
      : {}),
  });
  if (dl.status !== 200) problems.push(`deadline get: ${dl.status} ${dl.text.slice(0, 200)}`);
  return problems;
}
