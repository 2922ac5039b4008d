/*
 * Many idle nodes on one server: --nodes simulated nodes (in one client process, forked)
 * long-poll `acquire?wait=30` and heartbeat every --heartbeat seconds, staggered. Meanwhile
 * this process measures the server process's CPU while idle, then the latency of a side
 * request (GET /api/v1/jobs every 100 ms) and of a few submissions made while they wait.
 *
 *   npx tsx bench/nodes.ts [--db sqlite|postgres|both] [--nodes 4000] [--heartbeat 15]
 *                          [--idle 15] [--side 30] [--submits 5] [--budget 600] [--quick]
 *
 * Each node holds a connection; the client and the server need about two file descriptors
 * per node (see `ulimit -n`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { databaseKinds, positive, type DbKind } from './support/cli.js';
import { expectAllJobsEnded, registerNodes, submitNoOp } from './support/drover-client.js';
import { ExpectedFailure, onCleanup, runBounded } from './support/run-bounds.js';
import type { ServerProcess } from './support/server-process.js';
import { againstTarget, median, percentile } from './support/stats.js';
import { forkTypeScript, nextMessage, stopChild } from './support/ts-child.js';
import { withServer } from './support/with-server.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    nodes: { type: 'string' },
    heartbeat: { type: 'string', default: '15' },
    idle: { type: 'string' },
    side: { type: 'string' },
    submits: { type: 'string', default: '5' },
    budget: { type: 'string', default: '600' },
    quick: { type: 'boolean', default: false },
  },
});
const KINDS = databaseKinds(args.db);
const NODES = positive('nodes', args.nodes ?? (args.quick ? '200' : '4000'));
const HEARTBEAT_S = positive('heartbeat', args.heartbeat);
const IDLE_S = positive('idle', args.idle ?? (args.quick ? '5' : '15'));
const SIDE_S = positive('side', args.side ?? (args.quick ? '10' : '30'));
const SUBMITS = positive('submits', args.submits);
const BUDGET_S = positive('budget', args.budget);
/** The nodes' first acquires are spread over this long, as nodes of a farm start apart. */
const RAMP_S = 5;
const SIDE_EVERY_MS = 100;
const TARGET_SIDE_P99_MS = 50;
const TARGET_SUBMIT_MS = 50;
const TARGET_IDLE_CPU = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface SwarmStats {
  acquired: number;
  emptyPolls: number;
  heartbeats: number;
  errors: number;
  lastError: string;
}

/** Throws unless this process (and so its children) may open enough files. */
function checkFileLimit(): void {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s{2,}/)[1]);
  const needed = NODES * 2 + 256;
  if (Number.isFinite(soft) && soft < needed) {
    throw new ExpectedFailure(
      `${NODES} nodes need about ${needed} open files; ulimit -n is ${soft}. Raise it (ulimit -n ${needed}) or pass fewer --nodes.`,
    );
  }
}

/** The server's CPU over `seconds`, in percent of one core. */
async function cpuPercent(server: ServerProcess, seconds: number): Promise<number> {
  const before = server.cpuSeconds();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  return ((server.cpuSeconds() - before) / ((performance.now() - t0) / 1000)) * 100;
}

function run(kind: DbKind) {
  return withServer(kind, 16, async (server, client) => {
    const swarm = forkTypeScript(new URL('./support/node-swarm.ts', import.meta.url), [server.api]);
    onCleanup(() => stopChild(swarm, 'stop'));
    try {
      const registerStart = performance.now();
      const ids = await registerNodes(client, NODES, { prefix: 'swarm-node' });
      const registerS = (performance.now() - registerStart) / 1000;
      process.stdout.write(`  ${NODES} nodes registered in ${registerS.toFixed(1)} s\n`);
      // Untimed: the server's first submission and list compile and plan their queries (a node
      // of the swarm runs the task).
      await submitNoOp(client, 'swarm warm-up');
      await client.expect(200, 'GET', '/jobs');
      swarm.send({ ids, heartbeatS: HEARTBEAT_S, rampS: RAMP_S });
      await nextMessage<{ type: string }>(swarm, (m) => m.type === 'polling');
      await sleep(2000); // the last long-polls reach the server and settle there

      const idleCpu = await cpuPercent(server, IDLE_S);
      process.stdout.write(`  idle CPU ${idleCpu.toFixed(1)}% of a core\n`);

      const sideMs: number[] = [];
      const sideCpuBefore = server.cpuSeconds();
      const sideEnd = performance.now() + SIDE_S * 1000;
      while (performance.now() < sideEnd) {
        const t0 = performance.now();
        await client.expect(200, 'GET', '/jobs');
        const ms = performance.now() - t0;
        sideMs.push(ms);
        await sleep(Math.max(0, SIDE_EVERY_MS - ms));
      }
      const sideCpu = ((server.cpuSeconds() - sideCpuBefore) / SIDE_S) * 100;

      const submitMs: number[] = [];
      for (let i = 0; i < SUBMITS; i++) {
        const t0 = performance.now();
        await submitNoOp(client, `swarm submit ${i}`);
        submitMs.push(performance.now() - t0);
        await sleep(1000);
      }
      await sleep(2000); // the last submission's task runs on some node
      const statsPromise = nextMessage<SwarmStats & { type: string }>(
        swarm,
        (m) => m.type === 'stats',
      );
      await stopChild(swarm, 'stop');
      const stats = await statsPromise;
      await expectAllJobsEnded(client);
      return { registerS, idleCpu, sideMs, sideCpu, submitMs, stats };
    } finally {
      await stopChild(swarm, 'stop');
    }
  });
}

await runBounded(BUDGET_S, async () => {
  checkFileLimit();
  const rows = [];
  for (const kind of KINDS) {
    console.log(
      `nodes: ${kind}, ${NODES} idle nodes (acquire?wait=30, heartbeat every ${HEARTBEAT_S} s)…`,
    );
    const r = await run(kind);
    const sideP99 = percentile(r.sideMs, 99);
    const submitMax = Math.max(...r.submitMs);
    console.log(`  ${kind} side request p99 ${againstTarget(sideP99, TARGET_SIDE_P99_MS)}`);
    console.log(`  ${kind} submit (slowest) ${againstTarget(submitMax, TARGET_SUBMIT_MS)}`);
    console.log(`  ${kind} idle CPU ${againstTarget(r.idleCpu, TARGET_IDLE_CPU, '% of a core')}`);
    if (r.stats.errors > 0) console.log(`  swarm errors: ${r.stats.errors} (${r.stats.lastError})`);
    rows.push({
      db: kind,
      nodes: NODES,
      'register s': r.registerS.toFixed(1),
      'idle CPU %': r.idleCpu.toFixed(1),
      'side p50 ms': median(r.sideMs).toFixed(1),
      'side p99 ms': sideP99.toFixed(1),
      'side requests': r.sideMs.length,
      'CPU % during side': r.sideCpu.toFixed(1),
      'submit median ms': median(r.submitMs).toFixed(1),
      'submit max ms': submitMax.toFixed(1),
      heartbeats: r.stats.heartbeats,
      'swarm errors': r.stats.errors,
    });
  }
  console.log(
    `targets: side p99 ≤ ${TARGET_SIDE_P99_MS} ms, submit ≤ ${TARGET_SUBMIT_MS} ms, idle CPU < ${TARGET_IDLE_CPU}% of a core`,
  );
  console.table(rows);
});
