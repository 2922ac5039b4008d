/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
 * A batched run survives a crash: nodes claim tasks ten at a time and report their
 * finishes in batches while the server is killed with SIGKILL. After a restart on the same
 * data, every claim the server answered is there (its executions live on the node that got
 * them), every finish it answered is COMPLETED, and no task has more than one live or
 * completed execution.
 */

const NODES = 8;
const BATCH = 10;
const FRAMES = 3000;
const KILL_AFTER_MS = 3000;
/** Bounds on every loop, so a broken server fails the test instead of hanging it. */
const MAX_ROUNDS_PER_NODE = 2000;

interface Execution {
  id: number;
  taskId: number;
  nodeId: number;
  state: string;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** One node: claim → finish in batches until the server goes away; records what was acknowledged. */
async function node(
  url: string,
  nodeId: number,
  claimed: Map<number, Execution>,
  finished: Set<number>,
) {
  for (let round = 0; round < MAX_ROUNDS_PER_NODE; round++) {
    let ids: number[];
    try {
      const got = await post(`${url}/api/v1/nodes/${nodeId}/claims`, { max: BATCH, start: true });
      assert.equal(got.status, 200);
      ids = [];
      for (const order of got.body.orders) {
        const e = order.execution;
        claimed.set(e.id, { id: e.id, taskId: order.task.id, nodeId, state: e.state });
        ids.push(e.id);
      }
    } catch {
      return; // the server is gone (or died while answering: nothing was acknowledged)
    }
    if (ids.length === 0) return;
    try {
      const done = await post(`${url}/api/v1/nodes/${nodeId}/finishes`, {
        finishes: ids.map((executionId) => ({ executionId, success: true, exitCode: 0 })),
      });
      assert.equal(done.status, 200);
      for (const r of done.body.results) if (r.status === 200) finished.add(r.executionId);
    } catch {
      return;
    }
  }
}

before(buildOnce);

for (const target of targets) {
  describe(`batched dispatch across kill -9 (${target.name})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-durability-dispatch-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it('loses no acknowledged claim or finish', { timeout: 180_000 }, async () => {
      const { db, cleanup } = await target.setUp();
      let server: Child | undefined;
      try {
        const port = await freePort();
        server = await startServe(dataDir, port, db);
        const submitted = await post(`${server.url}/api/v1/jobs`, {
          type: 'command-line',
          name: 'batched durability',
          frames: `1-${FRAMES}`,
          chunkSize: 1,
          parameters: { executable: 'true', arguments: [] },
        });
        assert.equal(submitted.status, 201);
        const jobId = submitted.body.id as number;
        const nodeIds: number[] = [];
        for (let n = 0; n < NODES; n++) {
          const r = await post(`${server.url}/api/v1/nodes`, { name: `dur-${n}`, slots: BATCH });
          assert.equal(r.status, 200);
          nodeIds.push(r.body.id);
        }

        const claimed = new Map<number, Execution>();
        const finished = new Set<number>();
        const running = nodeIds.map((id) => node(server!.url, id, claimed, finished));
        await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
        await kill9(server);
        await Promise.all(running);
        assert.ok(finished.size > 0, 'some finishes were acknowledged before the kill');

        server = await startServe(dataDir, port, db);
        const url = server.url;
        const executions: Execution[] = [];
        for (let offset = 0; ; offset += 1000) {
          const page = await getJson<{ items: Execution[]; total: number }>(
            `${url}/api/v1/executions?job=${jobId}&limit=1000&offset=${offset}`,
          );
          assert.equal(page.status, 200);
          executions.push(...page.body.items);
          if (page.body.items.length === 0 || executions.length >= page.body.total) break;
        }
        const byId = new Map(executions.map((e) => [e.id, e]));
        for (const [id, got] of claimed) {
          const e = byId.get(id);
          assert.ok(e, `execution ${id} was claimed but is gone`);
          assert.equal(e.nodeId, got.nodeId, `execution ${id} is on another node`);
          assert.equal(e.taskId, got.taskId);
          const expected = finished.has(id) ? ['COMPLETED'] : ['RUNNING', 'COMPLETED'];
          assert.ok(expected.includes(e.state), `execution ${id} is ${e.state}`);
        }
        const perTask = new Map<number, number>();
        for (const e of executions) {
          if (e.state !== 'RUNNING' && e.state !== 'COMPLETED') continue;
          perTask.set(e.taskId, (perTask.get(e.taskId) ?? 0) + 1);
        }
        for (const [taskId, n] of perTask) {
          assert.equal(n, 1, `task ${taskId} has ${n} live or completed executions`);
        }
        const job = await getJson<{ tasks: Record<string, number> }>(`${url}/api/v1/jobs/${jobId}`);
        const completed = executions.filter((e) => e.state === 'COMPLETED').length;
        assert.equal(job.body.tasks.completed, completed, 'the job counts its completed tasks');
        process.stdout.write(
          `# ${target.name}: ${claimed.size} tasks claimed and ${finished.size} finished before kill -9\n`,
        );
      } finally {
        await kill9(server);
        await cleanup();
      }
    });
  });
}
