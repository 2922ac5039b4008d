/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '../../helpers/http.js';

/** Scale's bulk commands run after their 202; tests poll for their effect. */
export { eventually } from '../../helpers/eventually.js';

/* Helpers of the Scale suites (not a test file). Everything goes through HTTP. */

export type Res = Awaited<ReturnType<TestServer['request']>>;

export function expectStatus(res: Res, status: number, context = ''): Res {
  assert.equal(
    res.status,
    status,
    `${context ? `${context}: ` : ''}expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
  );
  return res;
}

/** Asserts Scale's error body {"detail": …}. */
export function expectDetail(res: Res, status: number, detail?: string | RegExp): Res {
  expectStatus(res, status);
  assert.equal(typeof res.body?.detail, 'string', JSON.stringify(res.body));
  if (typeof detail === 'string') assert.equal(res.body.detail, detail);
  else if (detail) assert.match(res.body.detail, detail);
  return res;
}

export function manifest(name: string, overrides: Record<string, any> = {}): any {
  const { job = {}, ...rest } = overrides;
  return {
    seedVersion: '1.0.0',
    ...rest,
    job: {
      name,
      jobVersion: '1.0.0',
      packageVersion: '1.0.0',
      title: `Title of ${name}`,
      description: `Description of ${name}`,
      maintainer: { name: 'John Doe', email: 'jdoe@example.com' },
      timeout: 30,
      resources: {
        scalar: [
          { name: 'cpus', value: 1 },
          { name: 'mem', value: 64 },
        ],
      },
      interface: {
        command: 'echo ${INPUT_FILE}',
        inputs: { files: [{ name: 'INPUT_FILE' }], json: [] },
        // Not required: jobs of this manifest complete without producing it.
        outputs: {
          files: [{ name: 'output_a', pattern: '*.png', multiple: true, required: false }],
        },
      },
      ...job,
    },
  };
}

export async function createJobType(
  t: TestServer,
  m: any,
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await t.request('POST', '/v6/job-types/', { manifest: m, ...extra });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body;
}

export async function registerFile(
  t: TestServer,
  fileName: string,
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await t.request('POST', '/v6/files/', {
    file_name: fileName,
    file_path: `/data/${fileName}`,
    file_size: 1024 * 1024,
    media_type: 'text/plain',
    ...extra,
  });
  return expectStatus(res, 201, 'register file').body;
}

export async function queue(t: TestServer, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await t.request('POST', '/v6/jobs/', body), 201, 'queue job').body;
}

export async function registerNode(
  t: TestServer,
  name: string,
  extra: Record<string, unknown> = {},
) {
  const res = await t.request('POST', '/api/v1/nodes', {
    name,
    hostname: `${name}.farm`,
    cpus: 8,
    mem: 16384,
    disk: 100000,
    ...extra,
  });
  return expectStatus(res, 200, 'register node').body;
}

export async function acquire(t: TestServer, nodeId: number): Promise<any> {
  const res = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire?wait=0`);
  if (res.status === 204) return undefined;
  return expectStatus(res, 200, 'acquire').body;
}

/** Fills the worker's tokens of a command template the way the worker does. */
export function resolveCommand(order: any, outputDir: string): string[] {
  const inputs = order.job.inputs ?? {};
  const parameters = order.job.parameters ?? {};
  return (order.jobType.definition.command as string[]).map((arg) =>
    arg
      .replace(/\{input\.([^}]+)\}/g, (_, n) => String(inputs[n] ?? ''))
      .replace(/\{param\.([^}]+)\}/g, (_, n) => String(parameters[n] ?? ''))
      .replace(/\{output_dir\}/g, outputDir),
  );
}

/**
 * Plays `drover worker` over the node protocol: acquires one task, really runs its
 * command, sends its output as log lines and reports the end. Returns the order.
 */
export async function runOne(
  t: TestServer,
  nodeId: number,
  failure?: { name?: string; category?: string },
): Promise<any> {
  const order = await acquire(t, nodeId);
  assert.ok(order, 'a task to run');
  const exe = order.execution.id;
  expectStatus(await t.request('POST', `/api/v1/executions/${exe}/start`, { nodeId }), 200);
  const [file, ...args] = resolveCommand(order, mkdtempSync(join(tmpdir(), 'scale-out-')));
  const run = spawnSync(file!, args, { encoding: 'utf8' });
  const lines = [
    ...run.stdout
      .split('\n')
      .filter(Boolean)
      .map((text) => ({ stream: 'stdout', text })),
    ...run.stderr
      .split('\n')
      .filter(Boolean)
      .map((text) => ({ stream: 'stderr', text })),
  ];
  if (lines.length) {
    expectStatus(await t.request('POST', `/api/v1/executions/${exe}/logs`, { nodeId, lines }), 200);
  }
  const success = run.status === 0 && !failure;
  const res = await t.request('POST', `/api/v1/executions/${exe}/finish`, {
    nodeId,
    success,
    exitCode: run.status,
    ...(success ? {} : { error: failure ?? {} }),
  });
  expectStatus(res, 200, 'finish');
  return { ...order, exitCode: run.status, stdout: run.stdout };
}

export const JOB_LIST_FIELDS = [
  'id',
  'job_type',
  'status',
  'job_type_rev',
  'event',
  'ingest_event',
  'recipe',
  'batch',
  'is_superseded',
  'superseded_job',
  'node',
  'error',
  'max_tries',
  'num_exes',
  'input_file_size',
  'input_files',
  'source_started',
  'source_ended',
  'source_sensor_class',
  'source_sensor',
  'source_collection',
  'source_task',
  'created',
  'queued',
  'started',
  'ended',
  'last_status_change',
  'superseded',
  'last_modified',
].sort();

export const JOB_DETAIL_FIELDS = [
  ...JOB_LIST_FIELDS,
  'superseded_by_job',
  'resources',
  'execution',
  'input',
  'output',
  'configuration',
].sort();

export const JOB_TYPE_BASE_FIELDS = [
  'id',
  'name',
  'version',
  'title',
  'description',
  'is_active',
  'is_system',
  'is_paused',
  'is_published',
  'icon_code',
  'unmet_resources',
].sort();

export const EXECUTION_FIELDS = [
  'id',
  'status',
  'exe_num',
  'cluster_id',
  'created',
  'queued',
  'started',
  'ended',
  'job',
  'node',
  'error',
  'job_type',
  'timeout',
  'input_file_size',
].sort();

export const keys = (o: any) => Object.keys(o).sort();
