import http from 'node:http';
import fc from 'fast-check';
import {
  contentType,
  hostileScalar,
  hostileValue,
  jsonText,
  nearValid,
  rawBody,
  type Template,
} from './inputs.js';
import type { World } from './world.js';

/*
 * The requests the fuzz sends and how it sends them, apart from the server it sends them
 * to: a plan (the routes a server registered by face, the world seeded in it, the
 * credentials to draw from) is plain data, so a client thread can draw and send the same
 * requests as the thread that runs the server. Batch b of a run is drawn from seed
 * `seed + b * 7919`, so request i of a seed is the same whoever sends it.
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

/** What a client needs to draw requests: plain data, cloned into client threads. */
export interface FuzzPlan {
  world: World;
  routes: Record<Face, { method: string; url: string }[]>;
  /** Authorization headers to draw from (with auth on: none, wrong, user's, admin's). */
  credentials: Record<Face, (string | undefined)[]>;
}

/** Where the faces listen: Deadline on a listener of its own. */
export interface FuzzBases {
  url: string;
  deadlineUrl: string;
}

export const BATCH = 500;
const BATCH_SEED_STEP = 7919;

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
export function requestArb(plan: FuzzPlan, face: Face): fc.Arbitrary<FuzzRequest> {
  const { world } = plan;
  const routes = plan.routes[face];
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
        authorization: fc.constantFrom(...plan.credentials[face]),
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
  bases: FuzzBases,
  request: FuzzRequest,
): Promise<{ finding?: Finding; status: number | 'no answer' }> {
  const base = request.face === 'deadline' ? bases.deadlineUrl : bases.url;
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

/** The requests of batch `b` of a run: the same for a seed whoever draws them. */
export function drawBatch(
  arb: fc.Arbitrary<FuzzRequest>,
  seed: number,
  b: number,
  count: number,
): FuzzRequest[] {
  return fc.sample(arb, { seed: seed + b * BATCH_SEED_STEP, numRuns: count });
}

/** Sends the requests `concurrency` at a time, reporting each status and finding. */
export async function sendAll(
  bases: FuzzBases,
  requests: FuzzRequest[],
  concurrency: number,
  onAnswer: (status: number | 'no answer', finding: Finding | undefined) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const { finding, status } = await send(bases, request);
      onAnswer(status, finding);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
