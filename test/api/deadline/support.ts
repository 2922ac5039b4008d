/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { archiveFileName } from '../../../src/api/deadline/archive-names.js';
import { buildDeadlineApp } from '../../../src/api/deadline/index.js';
import type { EngineOptions } from '../../../src/engine/engine.js';
import { startOnCompleteActions } from '../../../src/engine/jobs/on-complete.js';
import type { TestDatabase } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';

/*
 * A native server and the Deadline face over one engine, and a client that sends requests
 * as the Deadline Python API does (reference §1, §2): the query written raw (commas and
 * all), bodies as strings with `Content-Type: application/json; charset=utf-8`, no Accept
 * header, and the answer read as JSON when it parses, as text otherwise.
 */

export interface DeadlineResponse {
  status: number;
  /** Parsed like the 10.1+ client: JSON if it parses (newlines as spaces), else the text. */
  body: any;
  text: string;
  headers: Headers;
}

export interface DeadlineTestServer extends TestServer {
  deadlineUrl: string;
  archiveDir: string;
  deadlineApp: FastifyInstance;
  /** A request as the Python client sends it. */
  dl(
    method: string,
    path: string,
    body?: unknown,
    options?: { contentType?: string | null; auth?: string },
  ): Promise<DeadlineResponse>;
}

export async function startDeadlineTestServer(
  database: TestDatabase,
  options: Partial<EngineOptions> & { auth?: boolean } = {},
): Promise<DeadlineTestServer> {
  const t = await startTestServer(database, options);
  const archiveDir = mkdtempSync(join(tmpdir(), 'drover-archives-'));
  const deadlineApp = await buildDeadlineApp({
    engine: t.engine,
    auth: options.auth ?? false,
    archiveDir,
  });
  await deadlineApp.listen({ host: '127.0.0.1', port: 0 });
  const address = deadlineApp.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const deadlineUrl = `http://127.0.0.1:${port}`;
  const onComplete = startOnCompleteActions(t.engine.ctx, { archiveDir, archiveFileName });
  return {
    ...t,
    deadlineUrl,
    archiveDir,
    deadlineApp,
    async dl(method, path, body, opts = {}) {
      const headers: Record<string, string> = {
        'Accept-Encoding': 'identity',
        'User-Agent': 'Python-urllib/3.11',
        Connection: 'close',
      };
      if (opts.auth) headers.Authorization = opts.auth;
      const init: RequestInit = { method, headers };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        const type =
          opts.contentType === undefined ? 'application/json; charset=utf-8' : opts.contentType;
        if (type !== null) headers['Content-Type'] = type;
      }
      const res = await fetch(deadlineUrl + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text.replace(/\n/g, ' '));
      } catch {
        // kept as text, as the client does
      }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    async close() {
      await onComplete.stop();
      await deadlineApp.close();
      await t.close();
      rmSync(archiveDir, { recursive: true, force: true });
    },
  };
}

/** Asserts a bare `Success` text answer. */
export function expectSuccess(res: DeadlineResponse, context = ''): void {
  assert.equal(res.status, 200, `${context}: ${res.status} ${res.text}`);
  assert.equal(res.text, 'Success', context);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
}

/** Asserts a Deadline error: the status and a text body starting "Error: ". */
export function expectDeadlineError(res: DeadlineResponse, status: number, pattern?: RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(res.text, /^Error: /);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(res.text), 'no stack trace');
  if (pattern) assert.match(res.text, pattern);
}

/** The string-built body the Python client sends for a job command. */
export const commandBody = (command: string, jobId: string): string =>
  `{"Command":"${command}", "JobID":"${jobId}"}`;

/** Submits through the Deadline face like Jobs.SubmitJob (json.dumps, typed values). */
export async function submitDeadline(
  t: DeadlineTestServer,
  jobInfo: Record<string, unknown>,
  pluginInfo: Record<string, unknown> = {
    Executable: '/bin/echo',
    Arguments: '<STARTFRAME> <ENDFRAME>',
  },
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await t.dl('POST', '/api/jobs', {
    JobInfo: { Plugin: 'CommandLine', ...jobInfo },
    PluginInfo: pluginInfo,
    AuxFiles: [],
    ...extra,
  });
  assert.equal(res.status, 200, `submit: ${res.status} ${res.text}`);
  return res.body;
}

/** The native view of a Deadline job. */
export async function nativeJob(t: DeadlineTestServer, deadlineId: string): Promise<any> {
  const res = await t.request('GET', `/api/v1/jobs/${parseInt(deadlineId, 16)}`);
  assert.equal(res.status, 200, `native get: ${JSON.stringify(res.body)}`);
  return res.body;
}

export const idNumber = (deadlineId: string): number => parseInt(deadlineId, 16);

/** A native job id as Deadline's `_id`: hex, zero-padded to 24 characters. */
export const deadlineId = (id: number): string => id.toString(16).padStart(24, '0');
