/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/engine/settings.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  acquire,
  executionsOf,
  expectError,
  expectStatus,
  getJob,
  register,
  report,
  submit,
  tasksOf,
} from './support.js';

const LEASE_MS = 60_000; // the default

for (const database of TEST_DATABASES) {
  describe(`native API: node protocol (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const exe = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/executions/${id}`), 200).body;
    const task = async (id: number) =>
      expectStatus(await t.request('GET', `/api/v1/tasks/${id}`), 200).body;

    /** Cancels whatever the previous test left queued, so each test starts with an empty queue. */
    async function drain() {
      const live = (await t.request('GET', '/api/v1/jobs?state=QUEUED,RUNNING&limit=1000')).body;
      for (const j of live.items) await t.request('POST', `/api/v1/jobs/${j.id}/cancel`);
    }

    it('registers a node; the same name again keeps its id and updates it', async () => {
      const first = await register(t, 'np-1', {
        hostname: 'host-1.farm',
        pools: ['gpu'],
        groups: ['g1'],
        cpus: 8,
        mem: 16384,
        gpus: 1,
        slots: 2,
      });
      assert.equal(first.name, 'np-1');
      assert.equal(first.hostname, 'host-1.farm');
      assert.equal(first.state, 'ONLINE');
      assert.equal(first.enabled, true);
      assert.deepEqual(first.pools, ['gpu']);
      assert.deepEqual(first.groups, ['g1']);
      assert.deepEqual(first.resources, { cpus: 8, mem: 16384, disk: 0, gpus: 1 });
      assert.equal(first.slots, 2);
      assert.deepEqual(first.currentExecutions, []);
      assert.equal(first.lastHeartbeat, new Date(t.clock.now).toISOString());

      t.clock.advance(1000);
      const again = await register(t, 'np-1', { pools: ['cpu'], cpus: 4 });
      assert.equal(again.id, first.id);
      assert.deepEqual(again.pools, ['cpu']);
      assert.equal(again.resources.cpus, 4);
      assert.equal(again.hostname, 'np-1'); // defaults to the name when not given
      assert.equal(again.lastHeartbeat, new Date(t.clock.now).toISOString());

      const other = await register(t, 'np-2');
      assert.notEqual(other.id, first.id);
      const list = expectStatus(await t.request('GET', '/api/v1/nodes'), 200).body;
      assert.equal(list.total, 2);
      assert.deepEqual(list.items.map((n: any) => n.name).sort(), ['np-1', 'np-2']);
    });

    it('acquire answers 204 when there is no work, and a work order when there is', async () => {
      const node = await register(t, 'np-acq');
      const none = await t.request('POST', `/api/v1/nodes/${node.id}/acquire`);
      assert.equal(none.status, 204);
      assert.equal(none.body, undefined);

      const job = await submit(t, {
        frames: '1-4',
        chunkSize: 2,
        parameters: { executable: 'true' },
      });
      const res = await t.request('POST', `/api/v1/nodes/${node.id}/acquire`);
      expectStatus(res, 200);
      const order = res.body;
      assert.deepEqual(Object.keys(order).sort(), ['execution', 'job', 'jobType', 'task']);
      assert.equal(order.execution.state, 'ACQUIRED');
      assert.equal(order.execution.nodeId, node.id);
      assert.equal(order.execution.jobId, job.id);
      assert.equal(order.execution.exeNum, 1);
      assert.equal(order.execution.leaseExpiresAt, new Date(t.clock.now + LEASE_MS).toISOString());
      assert.equal(order.task.jobId, job.id);
      assert.equal(order.task.index, 0);
      assert.equal(order.task.frames, '1-2');
      assert.equal(order.task.state, 'RUNNING');
      assert.equal(order.task.nodeId, node.id);
      assert.equal(order.task.lastExecutionId, order.execution.id);
      assert.equal(order.execution.taskId, order.task.id);
      assert.equal(order.job.id, job.id);
      assert.equal(order.job.state, 'RUNNING');
      assert.deepEqual(order.job.parameters, { executable: 'true' });
      assert.equal(order.jobType.name, 'command-line');
      assert.equal(order.jobType.version, '1');
      assert.equal(order.jobType.revision, 1);
      assert.deepEqual(order.jobType.definition.command, [
        '{param.executable}',
        '{param.arguments...}',
      ]);

      const n = expectStatus(await t.request('GET', `/api/v1/nodes/${node.id}`), 200).body;
      assert.deepEqual(n.currentExecutions, [order.execution.id]);
      // One slot: the node gets nothing more while it holds a task.
      assert.equal(await acquire(t, node.id), undefined);
      await drain();
    });

    it('long-poll: a waiting acquire returns the task submitted while it waited', async () => {
      const node = await register(t, 'np-poll');
      t.clock.advance(6000);
      const stamp = new Date(t.clock.now).toISOString();
      const waiting = t.request('POST', `/api/v1/nodes/${node.id}/acquire?wait=30`);
      // The acquire stamps the node's heartbeat on its first look (the last stamp is more
      // than 5 s old); then it waits.
      let looked = false;
      for (let i = 0; i < 500 && !looked; i++) {
        looked = (await t.request('GET', `/api/v1/nodes/${node.id}`)).body.lastHeartbeat === stamp;
        if (!looked) await sleep(10);
      }
      assert.ok(looked, 'the waiting acquire never looked');
      const job = await submit(t, { name: 'wake up' });
      const res = await waiting;
      expectStatus(res, 200, 'long-poll');
      assert.equal(res.body.job.id, job.id);
      assert.equal(res.body.execution.nodeId, node.id);
      assert.equal((await getJob(t, job.id)).state, 'RUNNING');
      await drain();
    });

    it('start, progress, heartbeat and a successful finish complete the task and the job', async () => {
      const node = await register(t, 'np-run');
      const job = await submit(t, { name: 'one task' });
      const order = await acquire(t, node.id);
      const id = order.execution.id;
      const nodeId = node.id;

      t.clock.advance(1000);
      const started = await report(t, id, 'start', { nodeId });
      expectStatus(started, 200);
      assert.deepEqual(started.body, { ok: true });
      let e = await exe(id);
      assert.equal(e.state, 'RUNNING');
      assert.equal(e.startedAt, new Date(t.clock.now).toISOString());
      // Starting twice is harmless.
      expectStatus(await report(t, id, 'start', { nodeId }), 200);

      t.clock.advance(10_000);
      expectStatus(await report(t, id, 'progress', { nodeId, progress: 42.5 }), 200);
      e = await exe(id);
      assert.equal(e.progress, 42.5);
      assert.equal(e.leaseExpiresAt, new Date(t.clock.now + LEASE_MS).toISOString());
      assert.equal((await task(order.task.id)).progress, 42.5);

      t.clock.advance(30_000);
      expectStatus(await report(t, id, 'heartbeat', { nodeId }), 200);
      assert.equal((await exe(id)).leaseExpiresAt, new Date(t.clock.now + LEASE_MS).toISOString());

      t.clock.advance(30_000);
      const nodeHb = await t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, {
        executions: [id],
      });
      expectStatus(nodeHb, 200);
      assert.deepEqual(nodeHb.body, { stop: [], leaseMs: DEFAULT_ENGINE_SETTINGS.leaseMs });
      assert.equal((await exe(id)).leaseExpiresAt, new Date(t.clock.now + LEASE_MS).toISOString());

      t.clock.advance(1000);
      const fin = await report(t, id, 'finish', { nodeId, success: true, exitCode: 0 });
      expectStatus(fin, 200);
      assert.equal(fin.body.id, id);
      assert.equal(fin.body.state, 'COMPLETED');
      assert.equal(fin.body.exitCode, 0);
      assert.equal(fin.body.progress, 100);
      assert.equal(fin.body.error, null);
      assert.equal(fin.body.endedAt, new Date(t.clock.now).toISOString());
      // The answer is made from the rows the finish wrote, not read back: it must be them.
      assert.deepEqual(fin.body, await exe(id));

      const tk = await task(order.task.id);
      assert.equal(tk.state, 'COMPLETED');
      assert.equal(tk.progress, 100);
      const j = await getJob(t, job.id);
      assert.equal(j.state, 'COMPLETED');
      assert.equal(j.tasks.completed, 1);
      assert.equal(j.progress, 100);
      assert.equal(j.endedAt, new Date(t.clock.now).toISOString());
      assert.deepEqual(
        (await executionsOf(t, job.id)).map((x) => x.state),
        ['COMPLETED'],
      );

      // Any report after the end is refused, but the same finish sent again (its answer
      // was lost; a worker sends it again, maybe to another replica) is answered as before.
      expectError(await report(t, id, 'heartbeat', { nodeId }), 409, 'STALE_LEASE');
      const again = expectStatus(await report(t, id, 'finish', { nodeId, success: true }), 200);
      assert.deepEqual(again.body, await exe(id));
      expectError(
        await report(t, id, 'finish', { nodeId, success: false, exitCode: 1 }),
        409,
        'STALE_LEASE',
      );
      expectError(
        await report(t, id, 'finish', { nodeId, success: true, exitCode: 2 }),
        409,
        'STALE_LEASE',
      );
      assert.deepEqual(await exe(id), again.body, 'the repeats changed nothing');
      assert.equal((await getJob(t, job.id)).tasks.completed, 1);
    });

    it('a failure with exit code 3 and maxTries 2: two failed executions, then the job fails', async () => {
      const node = await register(t, 'np-fail');
      const job = await submit(t, { name: 'fails', maxTries: 2 });
      const nodeId = node.id;

      const first = await acquire(t, nodeId);
      expectStatus(await report(t, first.execution.id, 'start', { nodeId }), 200);
      const f1 = await report(t, first.execution.id, 'finish', {
        nodeId,
        success: false,
        exitCode: 3,
      });
      expectStatus(f1, 200);
      assert.equal(f1.body.state, 'FAILED');
      assert.equal(f1.body.exitCode, 3);
      assert.equal(f1.body.error.name, 'algorithm-unknown');
      let tk = await task(first.task.id);
      assert.equal(tk.state, 'QUEUED');
      assert.equal(tk.tries, 1);
      // The same failure sent again is answered as before and counts no second try.
      const f1again = await report(t, first.execution.id, 'finish', {
        nodeId,
        success: false,
        exitCode: 3,
      });
      expectStatus(f1again, 200);
      assert.deepEqual(f1again.body, f1.body);
      assert.equal((await task(first.task.id)).tries, 1);
      assert.equal((await getJob(t, job.id)).state, 'RUNNING');

      const second = await acquire(t, nodeId);
      assert.equal(second.task.id, first.task.id);
      assert.notEqual(second.execution.id, first.execution.id);
      assert.equal(second.execution.exeNum, 2);
      expectStatus(await report(t, second.execution.id, 'start', { nodeId }), 200);
      expectStatus(
        await report(t, second.execution.id, 'finish', {
          nodeId,
          success: false,
          exitCode: 3,
          error: { message: 'render crashed' },
        }),
        200,
      );
      tk = await task(first.task.id);
      assert.equal(tk.state, 'FAILED');
      assert.equal(tk.tries, 2);

      const executions = await executionsOf(t, job.id);
      assert.equal(executions.length, 2);
      assert.deepEqual(
        executions.map((x) => [x.exeNum, x.state, x.exitCode, x.error?.name]),
        [
          [1, 'FAILED', 3, 'algorithm-unknown'],
          [2, 'FAILED', 3, 'algorithm-unknown'],
        ],
      );
      assert.equal(executions[1].error.message, 'render crashed');

      const j = await getJob(t, job.id);
      assert.equal(j.state, 'FAILED');
      assert.equal(j.error.name, 'algorithm-unknown');
      assert.equal(j.error.message, 'render crashed');
      assert.equal(j.tasks.failed, 1);
      assert.equal(await acquire(t, nodeId), undefined);
    });

    it('release gives the task back without counting a try; abort does the same for a started one', async () => {
      const node = await register(t, 'np-release');
      const nodeId = node.id;
      const job = await submit(t, { name: 'give back' });

      const a = await acquire(t, nodeId);
      const rel = await report(t, a.execution.id, 'release', { nodeId });
      expectStatus(rel, 200);
      assert.deepEqual(rel.body, { ok: true });
      assert.equal((await exe(a.execution.id)).state, 'RELEASED');
      let tk = await task(a.task.id);
      assert.equal(tk.state, 'QUEUED');
      assert.equal(tk.tries, 0);
      assert.equal(tk.nodeId, null);

      const b = await acquire(t, nodeId);
      assert.equal(b.task.id, a.task.id);
      expectStatus(await report(t, b.execution.id, 'start', { nodeId }), 200);
      const late = await report(t, b.execution.id, 'release', { nodeId });
      expectError(late, 409, 'ILLEGAL_TRANSITION');
      assert.match(late.body.message, /abort it instead/);
      assert.equal((await exe(b.execution.id)).state, 'RUNNING');

      expectStatus(await report(t, b.execution.id, 'abort', { nodeId }), 200);
      assert.equal((await exe(b.execution.id)).state, 'CANCELED');
      tk = await task(a.task.id);
      assert.equal(tk.state, 'QUEUED');
      assert.equal(tk.tries, 0);
      const j = await getJob(t, job.id);
      assert.equal(j.tasks.queued, 1);
      assert.equal(j.tasks.running, 0);

      const c = await acquire(t, nodeId);
      assert.equal(c.task.id, a.task.id);
      assert.equal(c.execution.exeNum, 3);
      expectStatus(await report(t, c.execution.id, 'finish', { nodeId, success: true }), 200);
      assert.equal((await getJob(t, job.id)).state, 'COMPLETED');
      assert.equal((await task(a.task.id)).tries, 0);
    });

    it('a node heartbeat answers stop for an execution withdrawn by a job cancel', async () => {
      const node = await register(t, 'np-stop', { slots: 2 });
      const nodeId = node.id;
      const doomed = await submit(t, { name: 'doomed', priority: 90 });
      const kept = await submit(t, { name: 'kept', priority: 10 });
      const x = await acquire(t, nodeId);
      const y = await acquire(t, nodeId);
      assert.equal(x.job.id, doomed.id);
      assert.equal(y.job.id, kept.id);
      for (const o of [x, y]) {
        expectStatus(await report(t, o.execution.id, 'start', { nodeId }), 200);
      }
      const hb1 = await t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, {
        executions: [x.execution.id, y.execution.id],
      });
      assert.deepEqual(hb1.body, { stop: [], leaseMs: DEFAULT_ENGINE_SETTINGS.leaseMs });

      expectStatus(await t.request('POST', `/api/v1/jobs/${doomed.id}/cancel`), 200);
      const hb2 = await t.request('POST', `/api/v1/nodes/${nodeId}/heartbeat`, {
        executions: [x.execution.id, y.execution.id],
      });
      expectStatus(hb2, 200);
      assert.deepEqual(hb2.body, {
        stop: [x.execution.id],
        leaseMs: DEFAULT_ENGINE_SETTINGS.leaseMs,
      });
      assert.equal((await exe(x.execution.id)).state, 'CANCELED');
      assert.equal((await exe(y.execution.id)).state, 'RUNNING');
      // Execution reports about the withdrawn one are refused too.
      expectError(
        await report(t, x.execution.id, 'progress', { nodeId, progress: 50 }),
        409,
        'STALE_LEASE',
      );
      // Executions of another node are never extended for this one.
      const other = await register(t, 'np-stop-other');
      const hb3 = await t.request('POST', `/api/v1/nodes/${other.id}/heartbeat`, {
        executions: [y.execution.id],
      });
      assert.deepEqual(hb3.body, {
        stop: [y.execution.id],
        leaseMs: DEFAULT_ENGINE_SETTINGS.leaseMs,
      });
      assert.equal((await exe(y.execution.id)).state, 'RUNNING');
      await drain();
    });

    it('logs: batches appended in order, read by range, followed while live', async () => {
      const node = await register(t, 'np-logs');
      const nodeId = node.id;
      await submit(t, { name: 'chatty' });
      const order = await acquire(t, nodeId);
      const id = order.execution.id;
      expectStatus(await report(t, id, 'start', { nodeId }), 200);

      const b1 = await t.request('POST', `/api/v1/executions/${id}/logs`, {
        nodeId,
        lines: [
          { stream: 'stdout', text: 'line 0' },
          { stream: 'stderr', text: 'line 1' },
          { stream: 'stdout', text: 'line 2', time: '2026-01-01T00:00:01.000Z' },
        ],
      });
      expectStatus(b1, 200);
      assert.deepEqual(b1.body, { firstLine: 0, count: 3 });
      const b2 = await t.request('POST', `/api/v1/executions/${id}/logs`, {
        nodeId,
        lines: [
          // `system`: the worker's lines as workers before the `worker` stream name them.
          { stream: 'system', text: 'line 3' },
          { stream: 'stdout', text: 'line 4' },
        ],
      });
      assert.deepEqual(b2.body, { firstLine: 3, count: 2 });
      assert.equal((await exe(id)).logLines, 5);

      const all = expectStatus(await t.request('GET', `/api/v1/executions/${id}/logs`), 200).body;
      assert.deepEqual(
        all.lines.map((l: any) => [l.line, l.stream, l.text]),
        [
          [0, 'stdout', 'line 0'],
          [1, 'stderr', 'line 1'],
          [2, 'stdout', 'line 2'],
          [3, 'worker', 'line 3'],
          [4, 'stdout', 'line 4'],
        ],
      );
      assert.equal(all.next, 5);
      assert.equal(all.live, true);
      assert.equal(all.lines[2].time, '2026-01-01T00:00:01.000Z');
      assert.equal(all.lines[0].time, new Date(t.clock.now).toISOString());

      const p1 = (await t.request('GET', `/api/v1/executions/${id}/logs?from=0&limit=2`)).body;
      assert.deepEqual(
        p1.lines.map((l: any) => l.text),
        ['line 0', 'line 1'],
      );
      assert.equal(p1.next, 2);
      const p2 = (await t.request('GET', `/api/v1/executions/${id}/logs?from=${p1.next}&limit=2`))
        .body;
      assert.deepEqual(
        p2.lines.map((l: any) => l.text),
        ['line 2', 'line 3'],
      );
      assert.equal(p2.next, 4);
      const p3 = (await t.request('GET', `/api/v1/executions/${id}/logs?from=${p2.next}&limit=2`))
        .body;
      assert.deepEqual(
        p3.lines.map((l: any) => l.text),
        ['line 4'],
      );
      assert.equal(p3.next, 5);
      const empty = (await t.request('GET', `/api/v1/executions/${id}/logs?from=5`)).body;
      assert.deepEqual(empty.lines, []);
      assert.equal(empty.next, 5);

      // Follow: a read that finds nothing waits for the next batch.
      const following = t.request(
        'GET',
        `/api/v1/executions/${id}/logs?from=5&follow=true&wait=30`,
      );
      await sleep(200);
      expectStatus(
        await t.request('POST', `/api/v1/executions/${id}/logs`, {
          nodeId,
          lines: [{ stream: 'stdout', text: 'line 5 (late)' }],
        }),
        200,
      );
      const followed = await following;
      expectStatus(followed, 200);
      assert.deepEqual(
        followed.body.lines.map((l: any) => [l.line, l.text]),
        [[5, 'line 5 (late)']],
      );
      assert.equal(followed.body.next, 6);

      // Another node cannot write to this log.
      const intruder = await register(t, 'np-logs-intruder');
      expectError(
        await t.request('POST', `/api/v1/executions/${id}/logs`, {
          nodeId: intruder.id,
          lines: [{ stream: 'stdout', text: 'not mine' }],
        }),
        409,
        'STALE_LEASE',
      );

      expectStatus(await report(t, id, 'finish', { nodeId, success: true }), 200);
      const ended = (
        await t.request('GET', `/api/v1/executions/${id}/logs?from=6&follow=true&wait=5`)
      ).body;
      assert.deepEqual(ended.lines, []);
      assert.equal(ended.live, false);
      assert.equal(ended.next, 6);
    });

    it('logs: a batch sent again with its position is stored once', async () => {
      const node = await register(t, 'np-log-retry');
      const nodeId = node.id;
      await submit(t, { name: 'retried batches' });
      const order = await acquire(t, nodeId);
      const id = order.execution.id;
      const batch = (texts: string[], firstLine: number) =>
        t.request('POST', `/api/v1/executions/${id}/logs`, {
          nodeId,
          firstLine,
          lines: texts.map((text) => ({ stream: 'stdout', text })),
        });
      assert.deepEqual(expectStatus(await batch(['a', 'b'], 0), 200).body, {
        firstLine: 0,
        count: 2,
      });
      // The answer was lost; the worker sends the same batch again, then one that overlaps.
      assert.deepEqual(expectStatus(await batch(['a', 'b'], 0), 200).body, {
        firstLine: 2,
        count: 0,
      });
      assert.deepEqual(expectStatus(await batch(['b', 'c'], 1), 200).body, {
        firstLine: 2,
        count: 1,
      });
      const log = (await t.request('GET', `/api/v1/executions/${id}/logs`)).body;
      assert.deepEqual(
        log.lines.map((l: { line: number; text: string }) => [l.line, l.text]),
        [
          [0, 'a'],
          [1, 'b'],
          [2, 'c'],
        ],
      );
      await drain();
    });

    it('a failure without an exit code keeps it null (a command that could not start)', async () => {
      const node = await register(t, 'np-null-exit');
      await submit(t, { name: 'never started' });
      const order = await acquire(t, node.id);
      const fin = await report(t, order.execution.id, 'finish', {
        nodeId: node.id,
        success: false,
        exitCode: null,
        error: { name: 'task-launch', category: 'SYSTEM', message: 'spawn nope ENOENT' },
      });
      expectStatus(fin, 200);
      assert.equal(fin.body.exitCode, null);
      assert.equal(fin.body.error.name, 'task-launch');
      await drain();
    });

    it('calls of many nodes sent at once share transactions, and each gets its own answer', async () => {
      // Starts, claims and finishes that arrive together are written in one transaction
      // (GroupCommit). A refusal among them must not fail the others, nor leak into them.
      const nodes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => register(t, `np-group-${i}`)),
      );
      const job = await submit(t, { name: 'grouped', frames: '1-6', chunkSize: 1 });
      const orders = await Promise.all(nodes.map((n) => acquire(t, n.id)));
      assert.equal(new Set(orders.map((o) => o.task.id)).size, 6, 'six different tasks');
      const [a, b, c, d] = orders.map((o) => o.execution.id as number);
      const starts = await Promise.all([
        ...orders.map((o, i) => report(t, o.execution.id, 'start', { nodeId: nodes[i]!.id })),
        // Another node's start of a's execution, and a start of one that does not exist.
        report(t, a!, 'start', { nodeId: nodes[1]!.id }),
        report(t, 999_999, 'start', { nodeId: nodes[0]!.id }),
      ]);
      starts.slice(0, 6).forEach((r) => expectStatus(r, 200));
      expectError(starts[6]!, 409, 'STALE_LEASE');
      expectError(starts[7]!, 404, 'NOT_FOUND');
      for (const o of orders) assert.equal((await exe(o.execution.id)).state, 'RUNNING');

      const finishes = await Promise.all([
        report(t, a!, 'finish', { nodeId: nodes[0]!.id, success: true }),
        report(t, a!, 'finish', { nodeId: nodes[0]!.id, success: true }),
        report(t, b!, 'finish', { nodeId: nodes[0]!.id, success: true }),
        report(t, c!, 'finish', {
          nodeId: nodes[2]!.id,
          success: false,
          exitCode: 3,
          error: { message: 'boom' },
        }),
        report(t, d!, 'finish', { nodeId: nodes[3]!.id, success: true, exitCode: 0 }),
      ]);
      // One of the two finishes of a wins; the other finds it ended as it says, and is
      // answered as a repeat of the first.
      assert.deepEqual(
        finishes.slice(0, 2).map((r) => r.status),
        [200, 200],
      );
      assert.deepEqual(finishes[0]!.body, finishes[1]!.body);
      expectError(finishes[2]!, 409, 'STALE_LEASE');
      expectStatus(finishes[3]!, 200);
      expectStatus(finishes[4]!, 200);
      assert.equal((await exe(a!)).state, 'COMPLETED');
      assert.equal((await exe(b!)).state, 'RUNNING');
      assert.equal((await exe(c!)).state, 'FAILED');
      assert.equal((await exe(c!)).exitCode, 3);
      assert.deepEqual(finishes[4]!.body, await exe(d!));
      const counts = (await getJob(t, job.id)).tasks;
      assert.equal(counts.completed, 2);
      await drain();
    });

    it('a finish from the wrong node is refused with 409 and changes nothing', async () => {
      const owner = await register(t, 'np-owner');
      const thief = await register(t, 'np-thief');
      const job = await submit(t, { name: 'owned' });
      const order = await acquire(t, owner.id);
      const id = order.execution.id;
      expectStatus(await report(t, id, 'start', { nodeId: owner.id }), 200);
      const before = await exe(id);

      const res = await report(t, id, 'finish', { nodeId: thief.id, success: true });
      expectError(res, 409, 'STALE_LEASE');
      assert.match(res.body.message, new RegExp(`held by node ${owner.id}, not ${thief.id}`));
      for (const what of ['start', 'heartbeat', 'abort'] as const) {
        expectError(await report(t, id, what, { nodeId: thief.id }), 409, 'STALE_LEASE');
      }
      assert.deepEqual(await exe(id), before);
      assert.equal((await task(order.task.id)).state, 'RUNNING');
      assert.equal((await getJob(t, job.id)).state, 'RUNNING');

      expectStatus(await report(t, id, 'finish', { nodeId: owner.id, success: true }), 200);
      assert.equal((await getJob(t, job.id)).state, 'COMPLETED');
      assert.deepEqual(
        (await tasksOf(t, job.id)).map((x) => x.state),
        ['COMPLETED'],
      );
    });
  });
}
