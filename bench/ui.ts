/*
 * The web UI's time to interactive on a large farm, in Debian's Chromium: 100,000 jobs and
 * 1,000 nodes are written straight through the store into a fresh SQLite file, a real
 * server is started on it afresh, and the jobs page (50 and 1,000 rows a page) and the
 * nodes page are opened cold, each --runs times.
 *
 *   npx tsx bench/ui.ts [--jobs 100000] [--nodes 1000] [--runs 3]
 *
 * "Interactive" is: the page's rows are drawn, the pager counts them, and the main thread
 * then answers a task posted after the next frame. Needs `npm run build` (web/dist) and
 * /usr/bin/chromium (or DROVER_CHROMIUM).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { chromium, type Page } from 'playwright-core';
import { resolveConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { insertNode } from '../src/store/nodes.js';
import { freshDatabase } from './fresh-database.js';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    nodes: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
  },
});
const JOBS = Number(args.jobs);
const NODES = Number(args.nodes);
const RUNS = Number(args.runs);
const TARGET_JOBS_MS = 1500;
const CHROMIUM = process.env.DROVER_CHROMIUM ?? '/usr/bin/chromium';
const STATES = ['QUEUED', 'RUNNING', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'SUSPENDED'];

for (const [name, value] of Object.entries({ jobs: JOBS, nodes: NODES, runs: RUNS })) {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a whole number >= 1`);
}
if (!existsSync(join(import.meta.dirname, '../web/dist/index.html'))) {
  throw new Error('web/dist is missing: run `npm run build` first');
}

function start(dataDir: string, db: string): Promise<RunningServer> {
  return startServer(
    resolveConfig(
      { dataDir, db, port: '0', deadlinePort: '0', logLevel: 'error', localWorkers: '0' },
      {},
    ),
  );
}

/** One submitted job copied JOBS - 1 times, and NODES nodes, through the store's Kysely. */
async function seed(server: RunningServer): Promise<void> {
  const res = await fetch(`${server.url}/api/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({
      type: 'shell-script',
      name: 'template',
      parameters: { script: 'true' },
    }),
  });
  if (res.status !== 201) throw new Error(`template job: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: number };
  const db = server.engine.ctx.db;
  const template = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const state = `(case i % ${STATES.length} ${STATES.map((s, k) => `when ${k} then '${s}'`).join(' ')} end)`;
  const override: Record<string, string> = {
    name: `'shot_' || (i % 5000) || '_comp_v' || (i % 30)`,
    user_name: `'user' || (i % 20)`,
    pool: `(case i % 3 when 0 then 'render' when 1 then 'comp' else '' end)`,
    state,
    tasks_queued: `(case when ${state} = 'QUEUED' then 1 else 0 end)`,
    tasks_running: `(case when ${state} = 'RUNNING' then 1 else 0 end)`,
    tasks_completed: `(case when ${state} = 'COMPLETED' then 1 else 0 end)`,
    tasks_failed: `(case when ${state} = 'FAILED' then 1 else 0 end)`,
    tasks_suspended: `(case when ${state} = 'SUSPENDED' then 1 else 0 end)`,
    created_at: `(${template.created_at} - i * 1000)`,
  };
  const columns = Object.keys(template).filter((c) => c !== 'id');
  const values = columns.map((c) => override[c] ?? `t.${c}`);
  await sql
    .raw(
      `with recursive s(i) as (select 1 union all select i + 1 from s where i < ${JOBS - 1})
       insert into jobs (${columns.join(', ')})
       select ${values.join(', ')} from s cross join (select * from jobs where id = ${id}) t`,
    )
    .execute(db);
  const now = Date.now();
  await db.transaction().execute(async (tx) => {
    for (let i = 1; i <= NODES; i++) {
      await insertNode(tx, {
        name: `render-${String(i).padStart(4, '0')}`,
        hostname: `render-${i}.farm`,
        state: 'ONLINE',
        enabled: 1,
        pools_json: JSON.stringify(i % 2 ? ['render'] : ['comp', 'render']),
        groups_json: '[]',
        cpus: 32,
        mem: 131072,
        disk: 0,
        gpus: i % 4 === 0 ? 2 : 0,
        slots: 4,
        props_json: '{}',
        last_heartbeat: now,
        created_at: now,
        last_modified: now,
        account_id: null,
        telemetry_json: JSON.stringify({
          cpuPercent: 20 + (i % 70),
          memUsedBytes: (i % 100) * 2 ** 30,
          memTotalBytes: 128 * 2 ** 30,
        }),
        telemetry_at: now,
      });
    }
  });
}

/** Milliseconds from navigation to rows drawn, counted, and a main thread free again. */
async function timeToInteractive(
  page: Page,
  url: string,
  ready: () => Promise<boolean>,
): Promise<number> {
  const t0 = performance.now();
  await page.goto(url);
  for (;;) {
    if (await ready()) break;
    await page.waitForTimeout(10);
  }
  await page.evaluate('new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))');
  return Math.round(performance.now() - t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const database = await freshDatabase('sqlite');
  try {
    let t = performance.now();
    const seeding = await start(database.dataDir, database.url);
    await seed(seeding);
    await seeding.close();
    console.log(
      `seeded ${JOBS.toLocaleString()} jobs and ${NODES.toLocaleString()} nodes in ${Math.round(performance.now() - t)} ms`,
    );

    t = performance.now();
    const server = await start(database.dataDir, database.url);
    console.log(`server started on the filled file in ${Math.round(performance.now() - t)} ms`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const total = JOBS.toLocaleString('en-US');
    const pages = [
      {
        name: 'jobs page, 50 rows',
        path: '/#/jobs',
        target: TARGET_JOBS_MS,
        ready: async (p: Page) =>
          (await p.locator('tbody tr[data-job]').count()) === Math.min(50, JOBS) &&
          ((await p.locator('.pager > span').first().textContent()) ?? '').includes(`of ${total}`),
      },
      {
        name: 'jobs page, 1,000 rows (virtualised)',
        path: '/#/jobs?size=1000',
        target: TARGET_JOBS_MS,
        ready: async (p: Page) =>
          (await p.locator('.table-wrap[data-virtual] tbody tr[data-job]').count()) > 0 &&
          ((await p.locator('.pager > span').first().textContent()) ?? '').includes(`of ${total}`),
      },
      {
        name: 'nodes page, 50 of them',
        path: '/#/nodes',
        target: undefined,
        ready: async (p: Page) =>
          (await p.locator('tr[data-node]').count()) === Math.min(50, NODES) &&
          (await p
            .locator('tr[data-node] .usage, tr[data-node] td[data-column="usage"] .muted')
            .count()) === Math.min(50, NODES),
      },
    ];
    try {
      for (const spec of pages) {
        const times: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          // A new context each time: a cold cache, as a first visit.
          const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
          const page = await context.newPage();
          times.push(await timeToInteractive(page, server.url + spec.path, () => spec.ready(page)));
          await context.close();
        }
        const m = median(times);
        const verdict =
          spec.target === undefined
            ? ''
            : ` (target <= ${spec.target} ms: ${m <= spec.target ? 'met' : 'MISSED'})`;
        console.log(
          `${spec.name}: time to interactive median ${m} ms over ${RUNS} runs [${times.join(', ')}]${verdict}`,
        );
      }
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await database.cleanup();
  }
}

await main();
