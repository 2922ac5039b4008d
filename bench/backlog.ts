/*
 * Acquire latency behind a deep queue: fills the queue with --tasks tasks (jobs of
 * --tasks-per-job frames, chunk size 1, submitted through the API), then one node makes
 * --cycles acquire → start → finish cycles and the acquire calls are timed. The dispatch
 * query should read a few index entries whatever the depth of the queue.
 *
 *   npx tsx bench/backlog.ts [--db sqlite|postgres|both] [--tasks 1000000]
 *                            [--tasks-per-job 100000] [--cycles 300] [--budget 900] [--quick]
 *
 * The server runs in a child process. On PostgreSQL the database is VACUUM ANALYZEd after
 * the fill, as autovacuum would do within a minute of it.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { databaseKinds, positive, type DbKind } from './support/cli.js';
import {
  registerNodes,
  startAndFinish,
  submitTasks,
  type WorkOrder,
} from './support/drover-client.js';
import { runBounded } from './support/run-bounds.js';
import { againstTarget, percentile } from './support/stats.js';
import { withServer } from './support/with-server.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    tasks: { type: 'string' },
    'tasks-per-job': { type: 'string', default: '100000' },
    cycles: { type: 'string' },
    budget: { type: 'string', default: '900' },
    quick: { type: 'boolean', default: false },
  },
});
const KINDS = databaseKinds(args.db);
const TASKS = positive('tasks', args.tasks ?? (args.quick ? '50000' : '1000000'));
const PER_JOB = positive('tasks-per-job', args['tasks-per-job']);
const CYCLES = positive('cycles', args.cycles ?? (args.quick ? '100' : '300'));
const BUDGET_S = positive('budget', args.budget);
/** Cycles made first and not counted: the server's first queries compile and plan. */
const WARMUP = 10;
const TARGET_P95_MS = 10;

async function vacuumAnalyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}

function run(kind: DbKind) {
  return withServer(kind, 4, async (_server, client, database) => {
    const fillStart = performance.now();
    await submitTasks(client, TASKS, PER_JOB, 'backlog');
    if (kind === 'postgres') await vacuumAnalyze(database.url);
    const fillS = (performance.now() - fillStart) / 1000;
    process.stdout.write(`  ${TASKS} tasks queued in ${fillS.toFixed(1)} s\n`);

    const [nodeId] = await registerNodes(client, 1, { prefix: 'backlog-node' });
    const acquireMs: number[] = [];
    for (let i = -WARMUP; i < CYCLES; i++) {
      const t0 = performance.now();
      const order = await client.expect<WorkOrder>(200, 'POST', `/nodes/${nodeId}/acquire?wait=1`);
      const ms = performance.now() - t0;
      if (i >= 0) acquireMs.push(ms);
      await startAndFinish(client, nodeId!, order);
    }
    return { fillS, acquireMs };
  });
}

await runBounded(BUDGET_S, async () => {
  const rows = [];
  for (const kind of KINDS) {
    console.log(`backlog: ${kind}, ${TASKS} queued tasks in jobs of ${PER_JOB}, ${CYCLES} cycles…`);
    const { fillS, acquireMs } = await run(kind);
    const p95 = percentile(acquireMs, 95);
    console.log(`  ${kind} acquire p95 ${againstTarget(p95, TARGET_P95_MS)}`);
    rows.push({
      db: kind,
      'queued tasks': TASKS,
      'fill s': fillS.toFixed(1),
      cycles: acquireMs.length,
      'acquire p50 ms': percentile(acquireMs, 50).toFixed(2),
      'acquire p95 ms': p95.toFixed(2),
      'acquire max ms': Math.max(...acquireMs).toFixed(2),
    });
  }
  console.log(`acquire latency as the node sees it; target p95 ≤ ${TARGET_P95_MS} ms`);
  console.table(rows);
});
