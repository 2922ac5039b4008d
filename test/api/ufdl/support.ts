/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { addUser } from '../../../src/engine/accounts/accounts.js';
import type { TestDatabase } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';

/*
 * Helpers for the UFDL suites (not a test file). `UfdlClient` sends what UFDL's Python
 * client sends (reference §12): Bearer access token from /v1/auth/obtain, `Node-Id` once a
 * node is set, bodies as JSON or none.
 */

export type Res = Awaited<ReturnType<TestServer['request']>>;

export function expect(res: Res, status: number, context = ''): any {
  assert.equal(
    res.status,
    status,
    `${context}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
  );
  return res.body;
}

/** Asserts a UFDL error: the status and a `detail` matching `detail`. */
export function expectDetail(
  res: Res,
  status: number,
  detail: string | RegExp,
  context = '',
): void {
  expect(res, status, context);
  assert.equal(
    typeof res.body?.detail,
    'string',
    `${context}: no detail in ${JSON.stringify(res.body)}`,
  );
  if (typeof detail === 'string') assert.equal(res.body.detail, detail, context);
  else assert.match(res.body.detail, detail, context);
}

export class UfdlClient {
  access: string | undefined;
  refresh: string | undefined;
  nodeId: number | undefined;

  constructor(
    readonly t: TestServer,
    readonly username?: string,
    readonly password?: string,
  ) {}

  async login(): Promise<void> {
    if (!this.username) return;
    const res = await this.t.request('POST', '/v1/auth/obtain', {
      username: this.username,
      password: this.password,
    });
    const body = expect(res, 200, 'obtain');
    this.access = body.access;
    this.refresh = body.refresh;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.access ? { authorization: `Bearer ${this.access}` } : {}),
      ...(this.nodeId !== undefined ? { 'node-id': String(this.nodeId) } : {}),
      ...extra,
    };
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Res> {
    if (this.username && !this.access) await this.login();
    return this.t.request(method, path, body, this.headers(extra));
  }

  /** add_output: raw bytes with Content-Disposition, as the Python client sends them. */
  async addOutput(pk: number, name: string, type: string, data: Buffer): Promise<Res> {
    if (this.username && !this.access) await this.login();
    const res = await fetch(
      `${this.t.url}/v1/jobs/${pk}/outputs/${encodeURIComponent(name)}/${encodeURIComponent(type)}`,
      {
        method: 'POST',
        body: data,
        headers: this.headers({
          'content-type': 'application/data',
          'content-disposition': `attachment; filename=${name}`,
        }),
      },
    );
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

export interface UfdlWorld {
  t: TestServer;
  admin: UfdlClient;
  user: UfdlClient;
  anonymous: UfdlClient;
  close(): Promise<void>;
}

/** A server with auth on, an admin (UFDL staff) and a plain user, both logged in lazily. */
export async function startUfdl(database: TestDatabase): Promise<UfdlWorld> {
  const t = await startTestServer(database, { auth: true });
  await addUser(t.engine.ctx, 'staff', 'admin', 'staff-pw');
  await addUser(t.engine.ctx, 'alice', 'user', 'alice-pw');
  return {
    t,
    admin: new UfdlClient(t, 'staff', 'staff-pw'),
    user: new UfdlClient(t, 'alice', 'alice-pw'),
    anonymous: new UfdlClient(t),
    close: () => t.close(),
  };
}

/** A job type to make UFDL jobs from: one required input, one optional parameter. */
export async function defineTemplate(w: UfdlWorld, name = 'train'): Promise<number> {
  const res = await w.admin.call('POST', '/api/v1/job-types', {
    name,
    definition: {
      command: ['echo', '{input.dataset}'],
      inputs: [{ name: 'dataset', type: 'integer' }],
      parameters: [{ name: 'epochs', type: 'integer', required: false }],
    },
  });
  // The native API takes a Drover token; a UFDL access token is not one. Use the engine.
  if (res.status === 201) return res.body.id;
  const { createJobType } = await import('../../../src/engine/job-types/job-types.js');
  const row = await createJobType(w.t.engine.ctx, {
    name,
    definition: {
      command: ['echo', '{input.dataset}'],
      inputs: [{ name: 'dataset', type: 'integer' }],
      parameters: [{ name: 'epochs', type: 'integer', required: false }],
    },
  });
  return row.id;
}

export async function createJob(
  w: UfdlWorld,
  templatePk: number,
  extra: Record<string, unknown> = {},
  client: UfdlClient = w.user,
): Promise<any> {
  const res = await client.call('POST', `/v1/job-templates/${templatePk}/create-job`, {
    input_values: { dataset: { value: 7, type: 'PK<Dataset<Domain<Image Classification>>>' } },
    parameter_values: { epochs: { value: 3, type: 'int' } },
    description: 'train a model',
    ...extra,
  });
  return expect(res, 200, 'create-job');
}

/** Registers a node as the job launcher does, and returns a client that sends its Node-Id. */
export async function registerNode(w: UfdlWorld, ip = '10.0.0.5', index = 0): Promise<UfdlClient> {
  const node = new UfdlClient(w.t, 'alice', 'alice-pw');
  const found = expect(
    await node.call('POST', '/v1/nodes/list', {
      expressions: [
        {
          type: 'and',
          sub_expressions: [
            { type: 'exact', field: 'ip', value: ip },
            { type: 'exact', field: 'index', value: index },
          ],
        },
      ],
    }),
    200,
    'nodes list',
  );
  const fields = {
    ip,
    index,
    driver_version: '535.1',
    hardware_generation: null,
    gpu_mem: 8000,
    cpu_mem: 32000,
  };
  const body =
    found.length > 0
      ? expect(await node.call('PATCH', `/v1/nodes/${found[0].pk}`, fields), 200, 'node update')
      : expect(await node.call('POST', '/v1/nodes/create', fields), 201, 'node create');
  node.nodeId = body.pk;
  return node;
}

/** Native view of a job (through a Drover token for the admin). */
export async function nativeJob(w: UfdlWorld, pk: number): Promise<any> {
  const { createToken } = await import('../../../src/engine/accounts/accounts.js');
  const token = await createToken(w.t.engine.ctx, 'staff');
  return expect(
    await w.t.request('GET', `/api/v1/jobs/${pk}`, undefined, { authorization: `Bearer ${token}` }),
    200,
    'native job',
  );
}

export async function nativeToken(w: UfdlWorld): Promise<Record<string, string>> {
  const { createToken } = await import('../../../src/engine/accounts/accounts.js');
  return { authorization: `Bearer ${await createToken(w.t.engine.ctx, 'staff')}` };
}

/** A WebSocket on the job that collects every message. */
export async function watch(w: UfdlWorld, pk: number) {
  if (!w.user.access) await w.user.login();
  const ws = new WebSocket(`${w.t.url.replace('http', 'ws')}/v1/jobs/${pk}`, {
    headers: { authorization: `Bearer ${w.user.access}` },
  });
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    /** Waits until `n` messages have arrived (or 5 s). */
    async until(n: number): Promise<any[]> {
      const deadline = Date.now() + 5000;
      while (messages.length < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return messages;
    },
    close: () => ws.close(),
  };
}
