/*
 * Drover's dispatch against Graphile Worker's, in the same run: the two alternate (Drover,
 * Graphile, Drover, Graphile, …) so that both see the same machine, and each pair gives a
 * ratio. Only ratios from one run mean something; absolute figures move with the machine.
 *
 *   npx tsx bench/peer.ts [--db sqlite|postgres|both] [--mode single|batched|both]
 *                         [--rounds 3] [--tasks 10000] [--tasks-per-job 100] [--nodes 50]
 *                         [--batch 10] [--warmup 2000] [--budget 2400] [--quick]
 *
 * single:  N nodes loop acquire?wait=1 → start → finish, against Graphile Worker's defaults.
 * batched: N nodes loop claims {max: batch, start: true, jobsOnce: true} → finishes (one
 *          call per batch), against Graphile Worker tuned (local queue of 100, completions
 *          batched).
 * The Drover server runs in a child process; the nodes and Graphile Worker run in this one.
 * Each side first runs --warmup tasks untimed, in the same database.
 */
import { parseArgs } from 'node:util';
import { PG_URL } from './fresh-database.js';
import {
  databaseKinds,
  positive,
  protocolModes,
  type DbKind,
  type ProtocolMode,
} from './support/cli.js';
import { databaseCpu } from './support/database-cpu.js';
import { drainBatched, drainSingle } from './support/drain.js';
import { expectAllJobsEnded, registerNodes, submitTasks } from './support/drover-client.js';
import {
  describeProfile,
  postgresDurability,
  graphileRound,
  PEER_PROFILE,
} from './support/graphile.js';
import { runBounded } from './support/run-bounds.js';
import { median, percentile } from './support/stats.js';
import { withServer } from './support/with-server.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'both' },
    mode: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '3' },
    tasks: { type: 'string' },
    'tasks-per-job': { type: 'string', default: '100' },
    nodes: { type: 'string' },
    batch: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    budget: { type: 'string', default: '2400' },
    quick: { type: 'boolean', default: false },
  },
});
const KINDS = databaseKinds(args.db);
const MODES = protocolModes(args.mode);
const ROUNDS = positive('rounds', args.rounds);
const TASKS = positive('tasks', args.tasks ?? (args.quick ? '1000' : '10000'));
const PER_JOB = positive('tasks-per-job', args['tasks-per-job']);
const NODES = positive('nodes', args.nodes ?? (args.quick ? '10' : '50'));
const BATCH = positive('batch', args.batch);
const WARMUP = positive('warmup', args.warmup ?? (args.quick ? '200' : '2000'));
const BUDGET_S = positive('budget', args.budget);
/** One drain may take at most this long. */
const DRAIN_MS = 5 * 60_000;

function drover(kind: DbKind, mode: ProtocolMode) {
  return withServer(kind, NODES + 8, async (server, client, database) => {
    const slots = mode === 'batched' ? BATCH : 1;
    const nodeIds = await registerNodes(client, NODES, { slots });
    const drain = async (tasks: number) => {
      const deadline = Date.now() + DRAIN_MS;
      return mode === 'single'
        ? drainSingle(client, nodeIds, tasks, deadline)
        : drainBatched(client, nodeIds, tasks, BATCH, deadline);
    };
    // Untimed: the fresh server process compiles and plans its queries.
    await submitTasks(client, WARMUP, PER_JOB, 'warm-up');
    await drain(WARMUP);
    const submitStart = performance.now();
    await submitTasks(client, TASKS, PER_JOB);
    const submitS = (performance.now() - submitStart) / 1000;
    await server.profile('start');
    const cpuBefore = server.cpuSeconds();
    const clientBefore = process.cpuUsage();
    const dbCpu = await databaseCpu(database.url);
    const drained = await drain(TASKS);
    const dbCpuS = await dbCpu.stop();
    const nodesUsage = process.cpuUsage(clientBefore);
    await server.profile('stop');
    const seconds = drained.elapsedMs / 1000;
    const serverCpu = (server.cpuSeconds() - cpuBefore) / seconds;
    // The nodes' side: if it nears a whole core, the clients, not the server, set the pace.
    const clientCpu = (nodesUsage.user + nodesUsage.system) / 1e6 / seconds;
    await expectAllJobsEnded(client);
    return {
      serverCpu,
      clientCpu,
      dbCpuMsPerTask: (dbCpuS * 1000) / TASKS,
      tasksPerS: TASKS / (drained.elapsedMs / 1000),
      p50: percentile(drained.acquireMs, 50),
      p95: percentile(drained.acquireMs, 95),
      empty: drained.empty,
      submitS,
    };
  });
}

async function compare(kind: DbKind, mode: ProtocolMode) {
  const profile = PEER_PROFILE[mode];
  const rows: Record<string, string | number>[] = [];
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`  round ${round}: Drover…`);
    const d = await drover(kind, mode);
    process.stdout.write(` ${d.tasksPerS.toFixed(0)} tasks/s; Graphile…`);
    const g = await graphileRound(profile, TASKS, WARMUP, DRAIN_MS);
    process.stdout.write(` ${g.jobsPerS.toFixed(0)} jobs/s\n`);
    ratios.push(d.tasksPerS / g.jobsPerS);
    rows.push({
      round,
      'drover tasks/s': Math.round(d.tasksPerS),
      'acquire p50 ms': d.p50.toFixed(1),
      'acquire p95 ms': d.p95.toFixed(1),
      'empty acquires': d.empty,
      'server CPU %': (d.serverCpu * 100).toFixed(0),
      // Steadier than tasks/s on a shared machine: a change of a few percent shows here first.
      'server µs/task': ((d.serverCpu / d.tasksPerS) * 1e6).toFixed(0),
      'nodes CPU %': (d.clientCpu * 100).toFixed(0),
      'drover submit s': d.submitS.toFixed(1),
      'drover db ms/task': kind === 'postgres' ? d.dbCpuMsPerTask.toFixed(2) : '-',
      'graphile jobs/s': Math.round(g.jobsPerS),
      'graphile add s': g.addS.toFixed(1),
      'graphile db ms/job': g.dbCpuMsPerJob.toFixed(2),
      'drover/graphile': ratios.at(-1)!.toFixed(2),
    });
  }
  console.table(rows);
  console.log(
    `${mode} on ${kind}: median ratio Drover/Graphile ${median(ratios).toFixed(2)} over ${ROUNDS} pairs\n`,
  );
  return { kind, mode, medianRatio: median(ratios) };
}

await runBounded(BUDGET_S, async () => {
  console.log(
    `peer: ${TASKS} tasks (Drover: jobs of ${PER_JOB}, chunk size 1, command true; ` +
      `Graphile Worker: ${TASKS} no-op jobs added with addJobs), ${ROUNDS} rounds`,
  );
  console.log(`Graphile Worker on PostgreSQL (${await postgresDurability(PG_URL)})`);
  const summary = [];
  for (const mode of MODES) {
    console.log(
      `\n${mode}: Drover ${
        mode === 'single'
          ? `single-task protocol, ${NODES} nodes`
          : `batched protocol, ${NODES} nodes claiming ${BATCH} tasks at a time`
      } vs Graphile Worker ${PEER_PROFILE[mode]}: ${describeProfile(PEER_PROFILE[mode])}`,
    );
    for (const kind of KINDS) {
      console.log(`${mode}, Drover on ${kind}:`);
      summary.push(await compare(kind, mode));
    }
  }
  console.table(
    summary.map((s) => ({
      mode: s.mode,
      db: s.kind,
      peer: `graphile ${PEER_PROFILE[s.mode]}`,
      'median Drover/Graphile': s.medianRatio.toFixed(2),
    })),
  );
});
