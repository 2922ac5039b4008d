import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { allPages, expectStatus, register, submit } from './support.js';

const JOBS = 2;
const FRAMES_PER_JOB = 1000;
const TOTAL = JOBS * FRAMES_PER_JOB;
const NODES = 20;

interface Got {
  executionId: number;
  taskId: number;
  nodeId: number;
}

/** One worker: acquire → start → finish until the server answers 204. */
async function workLoop(t: TestServer, nodeId: number): Promise<Got[]> {
  const got: Got[] = [];
  for (;;) {
    const res = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire`);
    if (res.status === 204) return got;
    expectStatus(res, 200, `acquire by node ${nodeId}`);
    const { execution, task } = res.body;
    assert.equal(execution.nodeId, nodeId);
    got.push({ executionId: execution.id, taskId: task.id, nodeId });
    expectStatus(
      await t.request('POST', `/api/v1/executions/${execution.id}/start`, { nodeId }),
      200,
      `start ${execution.id} by node ${nodeId}`,
    );
    const fin = await t.request('POST', `/api/v1/executions/${execution.id}/finish`, {
      nodeId,
      success: true,
      exitCode: 0,
    });
    expectStatus(fin, 200, `finish ${execution.id} by node ${nodeId}`);
    assert.equal(fin.body.state, 'COMPLETED');
  }
}

for (const database of TEST_DATABASES) {
  describe(`native API: concurrent dispatch (${database.name})`, () => {
    it(`${NODES} nodes run ${TOTAL} tasks, each exactly once`, { timeout: 240_000 }, async () => {
      const t = await startTestServer(database);
      try {
        const jobs = [];
        for (let j = 0; j < JOBS; j++) {
          jobs.push(await submit(t, { name: `bulk ${j}`, frames: `1-${FRAMES_PER_JOB}` }));
        }
        assert.deepEqual(
          jobs.map((j) => j.tasks.total),
          Array(JOBS).fill(FRAMES_PER_JOB),
        );
        const nodes = [];
        for (let n = 0; n < NODES; n++) nodes.push(await register(t, `bulk-node-${n}`));

        const started = Date.now();
        const results = await Promise.all(nodes.map((n) => workLoop(t, n.id)));
        const seconds = (Date.now() - started) / 1000;
        const got = results.flat();

        // Client side: every acquisition was a distinct execution of a distinct task.
        assert.equal(got.length, TOTAL);
        assert.equal(
          new Set(got.map((g) => g.executionId)).size,
          TOTAL,
          'an execution was handed out twice',
        );
        assert.equal(new Set(got.map((g) => g.taskId)).size, TOTAL, 'a task was handed out twice');
        const busy = results.filter((r) => r.length > 0).length;
        assert.ok(busy >= 2, `only ${busy} node(s) got work in ${seconds}s`);

        // Server side: jobs and tasks all completed.
        for (const job of jobs) {
          const j = expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body;
          assert.equal(j.state, 'COMPLETED');
          assert.equal(j.tasks.completed, FRAMES_PER_JOB);
          assert.equal(j.tasks.running + j.tasks.queued + j.tasks.failed, 0);
        }
        const tasks = (
          await Promise.all(jobs.map((j) => allPages(t, `/api/v1/jobs/${j.id}/tasks`)))
        ).flat();
        assert.equal(tasks.length, TOTAL);
        assert.ok(tasks.every((x) => x.state === 'COMPLETED'));
        assert.ok(tasks.every((x) => x.tries === 0));

        // Exactly one execution per task, each on the node that received it.
        const executions = await allPages(t, '/api/v1/executions');
        assert.equal(executions.length, TOTAL);
        assert.ok(executions.every((e) => e.state === 'COMPLETED' && e.exitCode === 0));
        const perTask = new Map<number, number>();
        for (const e of executions) perTask.set(e.taskId, (perTask.get(e.taskId) ?? 0) + 1);
        assert.equal(perTask.size, TOTAL);
        assert.ok(
          [...perTask.values()].every((n) => n === 1),
          'a task has several executions',
        );
        const receiver = new Map(got.map((g) => [g.executionId, g]));
        for (const e of executions) {
          const g = receiver.get(e.id);
          assert.ok(g, `execution ${e.id} was never received by a node`);
          assert.equal(e.nodeId, g.nodeId);
          assert.equal(e.taskId, g.taskId);
        }
        const lastExecution = new Map(tasks.map((x) => [x.id, x.lastExecutionId]));
        for (const e of executions) assert.equal(lastExecution.get(e.taskId), e.id);

        // exe_num counts the job's executions without gaps or repeats.
        for (const job of jobs) {
          const nums = executions
            .filter((e) => e.jobId === job.id)
            .map((e) => e.exeNum)
            .sort((x, y) => x - y);
          assert.deepEqual(
            nums,
            Array.from({ length: FRAMES_PER_JOB }, (_, i) => i + 1),
          );
        }
        // Nothing is left live on any node.
        for (const n of nodes) {
          const node = expectStatus(await t.request('GET', `/api/v1/nodes/${n.id}`), 200).body;
          assert.deepEqual(node.currentExecutions, []);
        }
      } finally {
        await t.close();
      }
    });
  });
}
