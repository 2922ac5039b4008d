/*
 * Dispatch throughput: N simulated nodes drain M tasks over HTTP, each looping
 * acquire → start → finish, against a server started in this process.
 *
 *   npx tsx bench/dispatch.ts [--db sqlite|postgres|both] [--nodes 8] [--tasks 2000]
 *                             [--tasks-per-job 100] [--batch 0] [--statements]
 *                             [--limit N] [--cpus N] [--prefer]
 *
 * --batch N: each node claims up to N tasks at once, already started, and reports their
 * finishes in one call (the batched protocol); 0 is acquire → start → finish.
 * --statements: also print the statements each task cost, by text (always counted).
 * --limit N: every job names one limit (docs/scheduling.md) of N per task, so each claim
 * counts and (PostgreSQL) locks it; N at least --nodes times the slots measures what the
 * check costs, a smaller N what waiting for it costs too. 0: no limit (the default).
 * --cpus N: every job asks N cpus of its node (capacity, docs/scheduling.md), and every node
 * has N × its slots, so each claim sums what its node's running tasks ask but is never
 * stopped by it: what capacity costs. 0: no ask (the default).
 * --prefer: each node names the job of its last task in its claims (session affinity,
 * docs/scheduling.md), as a worker holding that job's session does: what preferring costs.
 *
 * PostgreSQL: DROVER_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test) names a
 * server and a database to connect to; the benchmark creates a fresh database beside it
 * and drops it afterwards.
 */
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { takeStatementCounts } from '../src/store/statement-counts.js';
import { freshDatabase } from './fresh-database.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    nodes: { type: 'string', default: '8' },
    tasks: { type: 'string', default: '2000' },
    'tasks-per-job': { type: 'string', default: '100' },
    batch: { type: 'string', default: '0' },
    statements: { type: 'boolean', default: false },
    limit: { type: 'string', default: '0' },
    cpus: { type: 'string', default: '0' },
    prefer: { type: 'boolean', default: false },
  },
});
// The server runs in this process: its statements are counted (src/store/statement-counts.ts).
process.env.DROVER_COUNT_STATEMENTS = '1';
const NODES = Number(args.nodes);
const TASKS = Number(args.tasks);
const PER_JOB = Math.max(1, Math.min(Number(args['tasks-per-job']), TASKS));
/** 0: the single-task protocol; N: claims of N started tasks, their finishes in one call. */
const BATCH = Number(args.batch);
const LIMIT = Number(args.limit);
const CPUS = Number(args.cpus);
/** Every loop gives up after this long, so a stuck server ends the run. */
const DEADLINE_MS = 10 * 60_000;

/** The few fields of the answers this benchmark reads. */
interface Answer {
  id?: number;
  total?: number;
  execution?: { id: number };
  job?: { id: number };
  orders?: { execution: { id: number }; job: { id: number } }[];
  results?: { status: number }[];
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Answer }> {
  const res = await fetch(base + path, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(kind: 'sqlite' | 'postgres') {
  const database = await freshDatabase(kind);
  const config = resolveConfig(
    {
      dataDir: database.dataDir,
      db: database.url,
      port: '0',
      deadlinePort: '0',
      logLevel: 'error',
    },
    {},
  );
  const server = await startServer(config);
  const base = `${server.url}/api/v1`;
  try {
    if (LIMIT > 0) {
      const r = await call(base, 'POST', '/limits', { name: 'bench', maxCount: LIMIT });
      if (r.status !== 201)
        throw new Error(`limit answered ${r.status}: ${JSON.stringify(r.body)}`);
    }
    // Submit: M tasks as jobs of PER_JOB frames each.
    const submitStart = performance.now();
    let submitted = 0;
    for (let j = 0; submitted < TASKS; j++) {
      const count = Math.min(PER_JOB, TASKS - submitted);
      const r = await call(base, 'POST', '/jobs', {
        type: 'command-line',
        name: `bench ${j}`,
        frames: `1-${count}`,
        chunkSize: 1,
        parameters: { executable: 'true', arguments: [] },
        ...(LIMIT > 0 ? { limits: ['bench'] } : {}),
        ...(CPUS > 0 ? { resources: { cpus: CPUS } } : {}),
      });
      if (r.status !== 201)
        throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
      submitted += count;
    }
    const submitMs = performance.now() - submitStart;

    const nodeIds: number[] = [];
    for (let n = 0; n < NODES; n++) {
      const r = await call(base, 'POST', '/nodes', {
        name: `bench-node-${n}`,
        slots: Math.max(1, BATCH),
        ...(CPUS > 0 ? { cpus: CPUS * Math.max(1, BATCH) } : {}),
      });
      if (r.status !== 200) throw new Error(`register answered ${r.status}`);
      nodeIds.push(r.body.id!);
    }

    const acquireMs: number[] = [];
    let finished = 0;
    let empty = 0;
    takeStatementCounts();
    const started = performance.now();
    /** When the last finish was answered; the other nodes then sit out a long-poll. */
    let ended = 0;
    const deadline = Date.now() + DEADLINE_MS;
    await Promise.all(
      nodeIds.map(async (nodeId) => {
        /** --prefer: the job of this node's last task. */
        let held: number | undefined;
        while (BATCH > 0 && finished < TASKS && Date.now() < deadline) {
          const t0 = performance.now();
          const got = await call(base, 'POST', `/nodes/${nodeId}/claims`, {
            max: BATCH,
            wait: 1,
            start: true,
            ...(held !== undefined ? { prefer: [held] } : {}),
          });
          acquireMs.push(performance.now() - t0);
          if (got.status !== 200) throw new Error(`claim answered ${got.status}`);
          const orders = got.body.orders!;
          if (orders.length === 0) {
            empty++;
            continue;
          }
          if (args.prefer) held = orders.at(-1)!.job.id;
          const f = await call(base, 'POST', `/nodes/${nodeId}/finishes`, {
            finishes: orders.map((o) => ({ executionId: o.execution.id, success: true })),
          });
          if (f.status !== 200 || f.body.results!.some((r) => r.status !== 200)) {
            throw new Error(`finishes answered ${f.status}: ${JSON.stringify(f.body)}`);
          }
          finished += orders.length;
          if (finished >= TASKS) ended ||= performance.now();
        }
        while (BATCH === 0 && finished < TASKS && Date.now() < deadline) {
          const t0 = performance.now();
          const prefer = held !== undefined ? `&prefer=${held}` : '';
          const got = await call(base, 'POST', `/nodes/${nodeId}/acquire?wait=1${prefer}`);
          acquireMs.push(performance.now() - t0);
          if (got.status === 204) {
            empty++;
            continue;
          }
          if (got.status !== 200) throw new Error(`acquire answered ${got.status}`);
          const id = got.body.execution!.id;
          if (args.prefer) held = got.body.job!.id;
          const s = await call(base, 'POST', `/executions/${id}/start`, { nodeId });
          if (s.status !== 200) throw new Error(`start answered ${s.status}`);
          const f = await call(base, 'POST', `/executions/${id}/finish`, {
            nodeId,
            success: true,
            exitCode: 0,
          });
          if (f.status !== 200) throw new Error(`finish answered ${f.status}`);
          finished++;
          if (finished >= TASKS) ended ||= performance.now();
        }
      }),
    );
    const elapsedMs = (ended || performance.now()) - started;
    const statements = [...takeStatementCounts()].sort((a, b) => b[1].ms - a[1].ms);
    const statementCount = statements.reduce((sum, [, s]) => sum + s.count, 0);
    if (args.statements) {
      console.log(`${kind}: statements per task, and their milliseconds per task, by text`);
      for (const [text, s] of statements.slice(0, 30)) {
        const line = text.replace(/\s+/g, ' ').slice(0, 150);
        console.log(
          `${(s.count / TASKS).toFixed(2).padStart(6)} ${(s.ms / TASKS).toFixed(3).padStart(7)}  ${line}`,
        );
      }
    }

    const left = await call(base, 'GET', '/jobs?state=QUEUED,RUNNING&limit=1');
    if (finished !== TASKS || left.body.total !== 0) {
      throw new Error(`only ${finished} of ${TASKS} tasks finished; ${left.body.total} jobs open`);
    }
    acquireMs.sort((a, b) => a - b);
    return {
      db: kind,
      nodes: NODES,
      tasks: TASKS,
      batch: BATCH,
      'submit s': (submitMs / 1000).toFixed(1),
      'tasks/s': (TASKS / (elapsedMs / 1000)).toFixed(0),
      'acquire p50 ms': percentile(acquireMs, 50).toFixed(1),
      'acquire p95 ms': percentile(acquireMs, 95).toFixed(1),
      'empty acquires': empty,
      'statements/task': (statementCount / TASKS).toFixed(1),
    };
  } finally {
    await server.close();
    await database.cleanup();
  }
}

const kinds: ('sqlite' | 'postgres')[] =
  args.db === 'both' ? ['sqlite', 'postgres'] : [args.db as 'sqlite' | 'postgres'];
for (const kind of kinds) {
  if (kind !== 'sqlite' && kind !== 'postgres')
    throw new Error(`--db must be sqlite, postgres or both`);
}
const rows = [];
for (const kind of kinds) {
  process.stdout.write(
    `dispatch: ${kind}, ${NODES} nodes, ${TASKS} tasks in jobs of ${PER_JOB}…\n`,
  );
  rows.push(await run(kind));
}
console.table(rows);
