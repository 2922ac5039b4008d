import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chunkFrames, parseFrameList } from '../../src/domain/frame-list.js';
import {
  buildOnce,
  freePort,
  getJson,
  kill9,
  startServe,
  targets,
  type Child,
} from '../helpers/serve-process.js';

/*
 * Every 2xx survives a crash: jobs are submitted by several concurrent clients over HTTP,
 * the server process is killed with SIGKILL mid-stream and restarted on the same data,
 * and every job it answered 201 for must be there with all of its tasks — and no job may
 * exist with only some of its tasks.
 */

const CLIENTS = 6;
const FRAMES = '1-50';
const CHUNK_SIZES = [1, 2, 3, 7, 50];
/** How long the clients stream before the kill. */
const KILL_AFTER_MS = 1500;
/** Bounds on every loop, so a broken server fails the test instead of hanging it. */
const MAX_SUBMISSIONS_PER_CLIENT = 5000;

function expectedTasks(frames: string, chunkSize: number): number {
  return frames.trim() === '' ? 1 : chunkFrames(parseFrameList(frames), chunkSize).length;
}

interface JobSummary {
  id: number;
  frames: string;
  chunkSize: number;
  tasks: { total: number };
}

interface PageOf<T> {
  items: T[];
  total: number;
}

interface Accepted {
  id: number;
  chunkSize: number;
}

/** One client: submits jobs back to back until the server goes away or `stop` is set. */
async function client(url: string, n: number, accepted: Accepted[], stop: { now: boolean }) {
  let refused = 0;
  for (let i = 0; i < MAX_SUBMISSIONS_PER_CLIENT && !stop.now; i++) {
    const chunkSize = CHUNK_SIZES[(n + i) % CHUNK_SIZES.length]!;
    let res: Response;
    try {
      res = await fetch(`${url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'command-line',
          name: `durability ${n}-${i}`,
          frames: FRAMES,
          chunkSize,
          parameters: { executable: 'true', arguments: [] },
        }),
      });
    } catch {
      return refused; // the server is gone
    }
    let body: { id: number };
    try {
      body = (await res.json()) as { id: number };
    } catch {
      return refused; // killed while answering: the answer never arrived
    }
    if (res.status === 201) accepted.push({ id: body.id, chunkSize });
    else refused++;
  }
  return refused;
}

/** Every job (deleted included), page by page. */
async function allJobs(url: string): Promise<JobSummary[]> {
  const jobs: JobSummary[] = [];
  for (let offset = 0, page = 0; page < 1000; page++) {
    const { status, body } = await getJson<PageOf<JobSummary>>(
      `${url}/api/v1/jobs?limit=1000&deleted=include&sort=id&offset=${offset}`,
    );
    assert.equal(status, 200);
    jobs.push(...body.items);
    offset += body.items.length;
    if (body.items.length === 0 || offset >= body.total) break;
  }
  return jobs;
}

/** Runs `work` over `items` with a few requests in flight. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

before(buildOnce);

for (const target of targets) {
  describe(`durability across kill -9 (${target.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-durability-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it(
      'keeps every job answered 201, each with all its tasks, and no half-made job',
      { timeout: 180_000 },
      async () => {
        const { db, cleanup } = await target.setUp();
        let server: Child | undefined;
        try {
          const port = await freePort();
          server = await startServe(dataDir, port, db);

          const accepted: Accepted[] = [];
          const stop = { now: false };
          const clients = Array.from({ length: CLIENTS }, (_, n) =>
            client(server!.url, n, accepted, stop),
          );
          await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
          await kill9(server);
          stop.now = true;
          const refused = (await Promise.all(clients)).reduce((a, b) => a + b, 0);
          assert.equal(refused, 0, 'no submission was refused before the kill');
          assert.ok(accepted.length > 0, 'some jobs were accepted before the kill');

          server = await startServe(dataDir, port, db);
          const url = server.url;

          // Every job answered 201 is there, with every one of its tasks.
          await eachLimited(accepted, 8, async ({ id, chunkSize }) => {
            const expected = expectedTasks(FRAMES, chunkSize);
            const job = await getJson<JobSummary>(`${url}/api/v1/jobs/${id}`);
            assert.equal(job.status, 200, `job ${id} was answered 201 but is gone`);
            assert.equal(job.body.tasks.total, expected, `job ${id} task count`);
            const tasks = await getJson<PageOf<unknown>>(`${url}/api/v1/jobs/${id}/tasks?limit=1`);
            assert.equal(tasks.status, 200);
            assert.equal(tasks.body.total, expected, `job ${id} has ${tasks.body.total} task rows`);
          });

          // Nothing half-made: every job that exists has the tasks its frames imply.
          const jobs = await allJobs(url);
          assert.ok(jobs.length >= accepted.length, 'at least the accepted jobs exist');
          const ids = new Set(jobs.map((j) => j.id as number));
          for (const { id } of accepted) assert.ok(ids.has(id), `job ${id} is listed`);
          await eachLimited(jobs, 8, async (job) => {
            const expected = expectedTasks(job.frames as string, job.chunkSize as number);
            assert.equal(job.tasks.total, expected, `job ${job.id} task count`);
            const tasks = await getJson<PageOf<unknown>>(
              `${url}/api/v1/jobs/${job.id}/tasks?limit=1`,
            );
            assert.equal(
              tasks.body.total,
              expected,
              `job ${job.id} has ${tasks.body.total} task rows`,
            );
          });
          process.stdout.write(
            `# ${target.name}: ${accepted.length} jobs answered 201 before kill -9, ${jobs.length} present after restart\n`,
          );
        } finally {
          await kill9(server);
          await cleanup();
        }
      },
    );
  });
}
