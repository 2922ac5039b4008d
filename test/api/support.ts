/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/http.js';

/*
 * Small helpers shared by the native API suites (not a test file itself). Every helper
 * goes through HTTP and asserts the status it expects, so a failing call says where.
 */

export type Res = Awaited<ReturnType<TestServer['request']>>;

/** Asserts the status and, for errors, the native error body `{error, message}`. */
export function expectStatus(res: Res, status: number, context = ''): Res {
  assert.equal(
    res.status,
    status,
    `${context ? `${context}: ` : ''}expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
  );
  return res;
}

/** Asserts a 4xx JSON error body with the given code and a non-empty message. */
export function expectError(res: Res, status: number, code?: string, context = ''): Res {
  expectStatus(res, status, context);
  assert.equal(
    typeof res.body,
    'object',
    `${context}: error body is not JSON: ${String(res.body)}`,
  );
  assert.equal(typeof res.body.error, 'string');
  assert.equal(typeof res.body.message, 'string');
  assert.ok(res.body.message.length > 0, `${context}: empty error message`);
  if (code !== undefined) assert.equal(res.body.error, code, `${context}: ${res.body.message}`);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(res.body.message), 'no stack trace in messages');
  return res;
}

export async function submit(t: TestServer, body: Record<string, unknown>): Promise<any> {
  const defaults =
    body.type === undefined || body.type === 'command-line'
      ? { type: 'command-line', parameters: { executable: 'echo' } }
      : {};
  const res = await t.request('POST', '/api/v1/jobs', { ...defaults, ...body });
  expectStatus(res, 201, 'submit');
  return res.body;
}

export async function getJob(t: TestServer, id: number): Promise<any> {
  return expectStatus(await t.request('GET', `/api/v1/jobs/${id}`), 200, 'get job').body;
}

export async function tasksOf(t: TestServer, jobId: number): Promise<any[]> {
  const res = expectStatus(await t.request('GET', `/api/v1/jobs/${jobId}/tasks`), 200, 'tasks');
  return res.body.items;
}

export async function executionsOf(t: TestServer, jobId: number): Promise<any[]> {
  const res = expectStatus(
    await t.request('GET', `/api/v1/executions?job=${jobId}&limit=1000`),
    200,
    'executions',
  );
  return res.body.items;
}

export async function register(
  t: TestServer,
  name: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<any> {
  const res = await t.request('POST', '/api/v1/nodes', { name, ...extra }, headers);
  expectStatus(res, 200, `register ${name}`);
  return res.body;
}

/** One acquire; the work order, or undefined on 204. */
export async function acquire(t: TestServer, nodeId: number, wait = 0): Promise<any> {
  const res = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire?wait=${wait}`);
  if (res.status === 204) return undefined;
  expectStatus(res, 200, 'acquire');
  return res.body;
}

export async function report(
  t: TestServer,
  executionId: number,
  what: 'start' | 'progress' | 'heartbeat' | 'finish' | 'release' | 'abort',
  body: Record<string, unknown>,
): Promise<Res> {
  return t.request('POST', `/api/v1/executions/${executionId}/${what}`, body);
}

/** Acquire, start and finish with success every task this node can get. */
export async function runAll(t: TestServer, nodeId: number): Promise<number> {
  let n = 0;
  for (;;) {
    const order = await acquire(t, nodeId);
    if (!order) return n;
    expectStatus(await report(t, order.execution.id, 'start', { nodeId }), 200, 'start');
    expectStatus(
      await report(t, order.execution.id, 'finish', { nodeId, success: true, exitCode: 0 }),
      200,
      'finish',
    );
    n++;
  }
}

/** Every item of a paged list. */
export async function allPages(t: TestServer, path: string): Promise<any[]> {
  const items: any[] = [];
  for (let offset = 0; ; offset += 1000) {
    const sep = path.includes('?') ? '&' : '?';
    const res = expectStatus(
      await t.request('GET', `${path}${sep}limit=1000&offset=${offset}`),
      200,
    );
    items.push(...res.body.items);
    if (items.length >= res.body.total || res.body.items.length === 0) return items;
  }
}
