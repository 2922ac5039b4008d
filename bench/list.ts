/*
 * Job-list latency on a large table: fills `jobs` with synthetic rows straight through the
 * store's Kysely instance, then times the native list API over HTTP.
 *
 *   npx tsx bench/list.ts [--db sqlite|postgres|both] [--jobs 1000000] [--requests 200]
 *                         [--budget 30] [--analyze] [--keep]
 *
 * --budget caps the seconds spent on one query shape (fewer requests are then made and the
 * count printed says so). --analyze runs ANALYZE on SQLite after the fill (the server itself
 * never does; PostgreSQL is always VACUUM ANALYZEd, as autovacuum would do soon after).
 * --keep leaves the filled database behind and prints where it is (to EXPLAIN queries).
 * PostgreSQL: DROVER_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test); a fresh
 * database is created beside it and dropped afterwards.
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { resolveConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import type { Db } from '../src/store/database.js';
import { freshDatabase } from './fresh-database.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    jobs: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    budget: { type: 'string', default: '30' },
    analyze: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const JOBS = Number(args.jobs);
const REQUESTS = Number(args.requests);
const BUDGET_MS = Number(args.budget) * 1000;
const BATCH = 100_000;
const DAY = 86_400_000;
/** The jobs span the year before the run, evenly, in id order. */
const SPAN = 365 * DAY;
const T0 = Date.now() - SPAN;
const USERS = 40;
const POOLS = ['render', 'comp', 'sim', 'fx', 'lighting', 'default'];
const SHOTS = 5000;

/** A well-spread pseudo-random integer in 0..999 from the row number i (SQL expression). */
const h = (prime: number) => `(((i * ${prime}) % 1000003) % 1000)`;

/**
 * The SELECT list that makes one job row from the row number `i`, in both dialects.
 * Old jobs have ended (mostly COMPLETED); the newest 3% are active. Users, pools and
 * job types are skewed the way farms are: a few users and pools carry most of the work.
 */
function jobColumns(types: { id: number; rev: number }[]): Record<string, string> {
  const activeFrom = Math.floor(JOBS * 0.97);
  const state = `(case when i > ${activeFrom} then
      (case when ${h(7919)} < 500 then 'QUEUED' when ${h(7919)} < 750 then 'RUNNING'
            when ${h(7919)} < 900 then 'SUSPENDED' else 'PENDING' end)
    else (case when ${h(7919)} < 900 then 'COMPLETED' when ${h(7919)} < 960 then 'FAILED'
            else 'CANCELED' end) end)`;
  const count = `(1 + ${h(104729)} % 100)`;
  const created = `(${T0} + i * ${Math.floor(SPAN / JOBS)})`;
  const started = `(${created} + 60000)`;
  const ended = `(${started} + ${h(15485863)} * 3600)`;
  const isFinal = `${state} in ('COMPLETED', 'FAILED', 'CANCELED')`;
  const typeCase = (field: 'id' | 'rev') =>
    `(case ${h(2750159)} % ${types.length} ${types.map((t, k) => `when ${k} then ${t[field]}`).join(' ')} end)`;
  const counter = (s: string, value: string) =>
    `(case when ${state} = '${s}' then ${value} else 0 end)`;
  return {
    job_type_id: typeCase('id'),
    job_type_rev_id: typeCase('rev'),
    // SQLite's || binds tighter than % and *: every arithmetic part is parenthesised.
    name: `'shot_' || ((${h(3)} * 5 + i % 5) % ${SHOTS}) || '_' || (case i % 4 when 0 then 'comp' when 1 then 'light' when 2 then 'fx' else 'anim' end) || '_v' || (i % 30)`,
    user_name: `'user' || (case when ${h(1299709)} < 500 then ${h(1299709)} % 5 else ${h(1299709)} % ${USERS} end)`,
    comment: `''`,
    department: `''`,
    batch_id: 'null',
    event_id: 'null',
    state,
    pend_reason: `(case when ${state} = 'PENDING' then 'MANUAL' else null end)`,
    priority: `(case when ${h(611953)} < 700 then 50 else ${h(611953)} % 100 end)`,
    pool: `(case when ${h(479001599)} < 400 then '${POOLS[0]}' ${POOLS.slice(1)
      .map((p, k) => `when ${h(479001599)} < ${400 + (k + 1) * 120} then '${p}'`)
      .join(' ')} else '' end)`,
    grp: `''`,
    frames: `'1-' || ${count}`,
    chunk_size: '1',
    task_count: count,
    tasks_pending: counter('PENDING', count),
    tasks_queued: counter('QUEUED', count),
    tasks_running: counter('RUNNING', '1'),
    tasks_suspended: counter('SUSPENDED', count),
    tasks_completed: `(case when ${state} = 'COMPLETED' then ${count} when ${state} = 'RUNNING' then ${count} - 1 else 0 end)`,
    tasks_failed: counter('FAILED', count),
    tasks_canceled: counter('CANCELED', count),
    machine_limit: '0',
    node_list_mode: `'NONE'`,
    req_cpus: '0',
    req_mem: '0',
    req_disk: '0',
    req_gpus: '0',
    task_timeout_s: '0',
    job_timeout_s: '0',
    max_tries: '3',
    retry_any_error: '1',
    num_exes: `(case when ${isFinal} then ${count} else 0 end)`,
    input_json: `'{}'`,
    parameters_json: `'{"executable":"true","arguments":[]}'`,
    dialect_json: `'{}'`,
    error_name: `(case when ${state} = 'FAILED' then 'algorithm-unknown' else null end)`,
    error_message: `(case when ${state} = 'FAILED' then 'The command exited with a non-zero code.' else null end)`,
    scheduled_at: 'null',
    created_at: created,
    queued_at: created,
    started_at: `(case when ${state} in ('QUEUED', 'PENDING') then null else ${started} end)`,
    ended_at: `(case when ${isFinal} then ${ended} else null end)`,
    last_status_change: `(case when ${isFinal} then ${ended} else ${created} end)`,
    last_modified: `(case when ${isFinal} then ${ended} else ${created} end)`,
    deleted_at: `(case when ${h(39916801)} < 20 and ${isFinal} then ${ended} + ${DAY} else null end)`,
    archived_at: 'null',
  };
}

async function fill(db: Db, kind: 'sqlite' | 'postgres', types: { id: number; rev: number }[]) {
  const columns = jobColumns(types);
  const names = Object.keys(columns).join(', ');
  const values = Object.values(columns).join(',\n  ');
  const statement = (from: number, to: number) =>
    kind === 'sqlite'
      ? `with recursive s(i) as (select ${from} union all select i + 1 from s where i < ${to})
         insert into jobs (${names}) select ${values} from s`
      : `insert into jobs (${names}) select ${values} from generate_series(${from}::bigint, ${to}::bigint) as s(i)`;
  const batches = async (run: (text: string) => Promise<unknown>) => {
    for (let from = 1; from <= JOBS; from += BATCH) {
      await run(statement(from, Math.min(JOBS, from + BATCH - 1)));
      process.stdout.write(`\r  ${Math.min(JOBS, from + BATCH - 1)} jobs`);
    }
    process.stdout.write('\n');
  };
  if (kind === 'sqlite') {
    // One transaction: one WAL commit for the lot.
    await db.transaction().execute((tx) => batches((text) => sql.raw(text).execute(tx)));
    if (args.analyze) await sql`analyze`.execute(db);
  } else {
    await batches((text) => sql.raw(text).execute(db));
    await sql`vacuum analyze jobs`.execute(db);
  }
}

interface ListBody {
  total: number;
  totalExact: boolean;
  next: string | null;
}

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; body: ListBody }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const parsed = (await res.json()) as unknown;
  const ms = performance.now() - t0;
  if (res.status !== 200)
    throw new Error(`${url} answered ${res.status}: ${JSON.stringify(parsed)}`);
  // UFDL answers a bare array; Scale a page with `count`.
  if (Array.isArray(parsed))
    return { ms, body: { total: parsed.length, totalExact: true, next: null } };
  const body = parsed as ListBody & { count?: number };
  if (body.count !== undefined)
    return { ms, body: { total: body.count, totalExact: true, next: null } };
  return { ms, body };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The list requests measured; `i` varies the parameters from request to request, and
 * `previous` is the answer to the request before (for following `next` cursors). Paths are
 * below /api/v1 unless the shape is another face's (then below the server's root); `body`
 * makes the request a POST.
 */
const SHAPES: {
  name: string;
  face?: 'scale' | 'ufdl';
  path: (i: number, previous?: ListBody) => string;
  body?: (i: number) => unknown;
}[] = [
  { name: 'default (sort -id)', path: () => '/jobs' },
  {
    name: 'state',
    path: (i) => `/jobs?state=${['QUEUED', 'RUNNING', 'FAILED', 'SUSPENDED'][i % 4]}`,
  },
  {
    name: 'user + state, sort -priority',
    path: (i) => `/jobs?user=user${i % USERS}&state=COMPLETED&sort=-priority`,
  },
  {
    name: 'pool, sort created_at, offset 5000',
    path: (i) => `/jobs?pool=${POOLS[i % POOLS.length]}&sort=created_at&offset=5000`,
  },
  {
    // Each request asks for the page after the previous one: 100 requests walk 5,000 rows.
    name: 'pool, sort created_at, next cursor',
    path: (_i, previous) =>
      `/jobs?pool=${POOLS[0]}&sort=created_at` +
      (previous?.next ? `&cursor=${encodeURIComponent(previous.next)}` : ''),
  },
  { name: 'text search q=', path: (i) => `/jobs?q=shot_${(i * 37) % SHOTS}_` },
  {
    name: 'createdAfter/Before 1-day window',
    path: (i) => {
      const from = T0 + ((i * 7919) % 360) * DAY;
      return `/jobs?createdAfter=${iso(from)}&createdBefore=${iso(from + DAY)}`;
    },
  },
  // Scale counts every match exactly, as Django's paginator does.
  { name: 'Scale v6 status=FAILED', face: 'scale', path: () => '/v6/jobs/?status=FAILED' },
  {
    name: 'Scale v6 order=-last_modified page 20',
    face: 'scale',
    path: () => '/v6/jobs/?order=-last_modified&page=20',
  },
  {
    // UFDL's lists have no pages: a FilterSpec that selects 50 jobs by pk.
    name: 'UFDL jobs/list pk range of 50',
    face: 'ufdl',
    path: () => '/v1/jobs/list',
    body: (i) => ({
      expressions: [
        { type: 'compare', field: 'pk', operator: '>=', value: 1000 * (i + 1) },
        { type: 'compare', field: 'pk', operator: '<', value: 1000 * (i + 1) + 50 },
      ],
      order_by: [{ field: 'pk', ascending: false }],
    }),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(kind: 'sqlite' | 'postgres') {
  const database = await freshDatabase(kind);
  const config = resolveConfig(
    // No Deadline port: another server on this machine may hold the default 8081.
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
    // A handful of job types beside the two built in.
    for (const name of ['maya-render', 'nuke-comp', 'houdini-sim']) {
      const res = await fetch(`${base}/job-types`, {
        method: 'POST',
        // No idle keep-alive socket across the fill: SQLite's fill blocks the event loop for
        // longer than the server's keep-alive, and reusing that socket then ends in ECONNRESET.
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ name, definition: { command: [name, '{frames}'] } }),
      });
      if (res.status !== 201)
        throw new Error(`job type ${name}: ${res.status} ${await res.text()}`);
    }
    const db = server.engine.ctx.db;
    const types = (
      await db
        .selectFrom('job_types as t')
        .innerJoin('job_type_revisions as r', (j) =>
          j.onRef('r.job_type_id', '=', 't.id').onRef('r.revision_num', '=', 't.latest_revision'),
        )
        .select(['t.id as id', 'r.id as rev'])
        .orderBy('t.id')
        .execute()
    ).map((t) => ({ id: Number(t.id), rev: Number(t.rev) }));

    process.stdout.write(`list: ${kind}, filling ${JOBS} jobs…\n`);
    const fillStart = performance.now();
    await fill(db, kind, types);
    const fillS = (performance.now() - fillStart) / 1000;
    process.stdout.write(`  filled in ${fillS.toFixed(1)} s\n`);

    const rows: Record<string, string | number>[] = [];
    for (const shape of SHAPES) {
      const url = (i: number, previous?: ListBody) =>
        (shape.face ? server.url : base) + shape.path(i, previous);
      const init = (i: number): RequestInit | undefined =>
        shape.body && {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(shape.body(i)),
        };
      let previous = (await timed(url(0), init(0))).body; // warm-up
      const ms: number[] = [];
      let total = 0;
      let exact = 0;
      const stopAt = performance.now() + BUDGET_MS;
      for (let i = 0; i < REQUESTS && performance.now() < stopAt; i++) {
        const r = await timed(url(i, previous), init(i));
        ms.push(r.ms);
        total += r.body.total;
        if (r.body.totalExact) exact++;
        previous = r.body;
      }
      ms.sort((a, b) => a - b);
      rows.push({
        db: kind,
        query: shape.name,
        requests: ms.length,
        'mean total': Math.round(total / ms.length),
        'exact %': Math.round((100 * exact) / ms.length),
        'p50 ms': percentile(ms, 50).toFixed(1),
        'p95 ms': percentile(ms, 95).toFixed(1),
      });
      process.stdout.write(`  ${shape.name}: p50 ${rows.at(-1)!['p50 ms']} ms\n`);
    }
    return { rows, fillS };
  } finally {
    await server.close();
    if (args.keep) process.stdout.write(`  kept ${database.url}\n`);
    else await database.cleanup();
  }
}

const kinds: ('sqlite' | 'postgres')[] =
  args.db === 'both' ? ['sqlite', 'postgres'] : [args.db as 'sqlite' | 'postgres'];
for (const kind of kinds) {
  if (kind !== 'sqlite' && kind !== 'postgres')
    throw new Error('--db must be sqlite, postgres or both');
}
const all: Record<string, string | number>[] = [];
const fills: string[] = [];
for (const kind of kinds) {
  const { rows, fillS } = await run(kind);
  all.push(...rows);
  fills.push(`${kind}: ${JOBS} jobs filled in ${fillS.toFixed(1)} s`);
}
console.log(fills.join('\n'));
console.table(all);
