import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Engine } from '../../src/engine/engine.js';
import { completeExecution } from '../../src/engine/executions/execution-reports.js';
import { submitJob, type SubmitJobSpec } from '../../src/engine/jobs/job-submission.js';
import { registerNode } from '../../src/engine/nodes/node-registry.js';
import type { ExecutionRow } from '../../src/store/schema.js';
import type { TEST_DATABASES } from '../helpers/databases.js';
import { startTestEngine, withRacingReplicas, type TestEngine } from '../helpers/databases.js';

/*
 * What the fair-share suites share (fair-share.test.ts, project-shares.test.ts): jobs of
 * pool `farm` submitted through the engine, nodes of that pool, real claims and finishes,
 * and the running tasks counted straight from the tasks.
 */

const spec = (more: Partial<SubmitJobSpec> = {}): SubmitJobSpec => ({
  type: 'command-line',
  user: 'alice',
  pool: 'farm',
  parameters: { executable: 'echo' },
  ...more,
});

export type FairShareHelpers = ReturnType<typeof helpers>;

export async function withEngine(
  database: (typeof TEST_DATABASES)[number],
  fn: (t: TestEngine, f: FairShareHelpers) => Promise<void>,
): Promise<void> {
  const t = await startTestEngine(database);
  try {
    await fn(t, helpers(t.engine));
  } finally {
    await t.close();
  }
}

function helpers(engine: Engine) {
  const ctx = engine.ctx;
  /** RUNNING tasks per value of a job column, counted straight from the tasks. */
  const runningBy = async (column: 'user_name' | 'project' | 'job_id') => {
    const { rows } = await sql<{ k: string | number; n: number | string }>`
      select j.${sql.ref(column === 'job_id' ? 'id' : column)} as k, count(*) as n
      from tasks t join jobs j on j.id = t.job_id
      where t.state = 'RUNNING' group by j.${sql.ref(column === 'job_id' ? 'id' : column)}`.execute(
      ctx.db,
    );
    return rows.map((r) => [r.k, Number(r.n)] as const);
  };
  return {
    submit: (more: Partial<SubmitJobSpec> = {}) => submitJob(ctx, spec(more)),
    nodes: async (n: number) => {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        ids.push((await registerNode(ctx, { name: `n${i}`, pools: ['farm'] })).id);
      }
      return ids;
    },
    take: async (nodeId: number, e: Engine = engine) =>
      (await e.dispatcher.tryAcquire(nodeId))?.execution,
    complete: (e: ExecutionRow) => completeExecution(ctx, engine.settings, e.id, e.node_id, 0),
    runningByUser: async () =>
      new Map((await runningBy('user_name')).map(([k, n]) => [String(k), n])),
    runningByProject: async () =>
      new Map((await runningBy('project')).map(([k, n]) => [String(k), n])),
    runningByJob: async () => new Map((await runningBy('job_id')).map(([k, n]) => [Number(k), n])),
  };
}

/**
 * Ten nodes work through 200 tasks: in each round every idle node acquires at once, the
 * running tasks are counted per share holder (user or project), and the five oldest finish.
 * Answers each holder's share of the running tasks summed over the first half of the drain.
 */
export async function drain(
  f: FairShareHelpers,
  nodes: number[],
  by: 'user' | 'project',
): Promise<Map<string, number>> {
  const held: ExecutionRow[] = [];
  const sums = new Map<string, number>();
  let total = 0;
  for (let round = 0; round < 20; round++) {
    const busy = new Set(held.map((e) => e.node_id));
    const got = await Promise.all(nodes.filter((n) => !busy.has(n)).map((n) => f.take(n)));
    held.push(...got.filter((e): e is ExecutionRow => e !== undefined));
    assert.equal(held.length, 10, `round ${round}: every node works (${held.length} do)`);
    const running = by === 'user' ? await f.runningByUser() : await f.runningByProject();
    for (const [holder, n] of running) {
      sums.set(holder, (sums.get(holder) ?? 0) + n);
      total += n;
    }
    for (const e of held.splice(0, 5)) await f.complete(e);
  }
  return new Map([...sums].map(([holder, n]) => [holder, n / total]));
}

/**
 * A burst limit under contention: twenty nodes claim at once for six rounds, through four
 * engines on PostgreSQL (replicas, each with its own transactions). After each round the
 * capped holder runs at most `burst` (`running` counts it); then two of its tasks and three
 * others end, so each round races again. Answers the nodes and whether the cap was reached.
 */
export async function burstRace(
  t: TestEngine,
  f: FairShareHelpers,
  options: {
    cappedJobs: number[];
    running: () => Promise<number>;
    burst: number;
    holder: string;
  },
): Promise<{ nodes: number[]; sawCap: boolean }> {
  return withRacingReplicas(t, async (replicas) => {
    const nodes = await f.nodes(20);
    const held: ExecutionRow[] = [];
    let sawCap = false;
    for (let round = 0; round < 6; round++) {
      const busy = new Set(held.map((e) => e.node_id));
      const got = await Promise.all(
        nodes
          .map((n, i) => [n, i] as const)
          .filter(([n]) => !busy.has(n))
          .map(([n, i]) => f.take(n, replicas[i % replicas.length])),
      );
      held.push(...got.filter((e): e is ExecutionRow => e !== undefined));
      const running = await options.running();
      assert.ok(
        running <= options.burst,
        `round ${round}: ${options.holder} runs ${running} (burst ${options.burst})`,
      );
      if (running === options.burst) sawCap = true;
      const capped = (e: ExecutionRow) => options.cappedJobs.includes(e.job_id);
      const ending = held.filter(capped).slice(0, 2);
      ending.push(...held.filter((e) => !capped(e)).slice(0, 3));
      for (const e of ending) {
        await f.complete(e);
        held.splice(held.indexOf(e), 1);
      }
    }
    return { nodes, sawCap };
  });
}
