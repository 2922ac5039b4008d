/*
 * The floor of Drover's node protocols, against Graphile Worker in the same run: how fast
 * the benchmark's nodes drain tasks from a server that does nothing but HTTP. The server
 * (support/floor-child.ts, a process of its own) replays the answers a real Drover server
 * gave to the same calls, with no database and no engine behind them. No server that speaks
 * these protocols over HTTP can beat these figures on this machine with these clients; a
 * floor/Graphile ratio under a target of peer.ts says that target is out of reach of the
 * protocol itself, whatever the server does.
 *
 *   npx tsx bench/protocol-floor.ts [--mode single|batched|both] [--server fastify|http|both]
 *                                   [--rounds 3] [--tasks 6000] [--nodes 50] [--batch 10]
 *                                   [--warmup 2000]
 *
 * fastify: the framework Drover is built on, with its JSON body parsing and nothing else.
 * http:    node:http alone.
 */
import { parseArgs } from 'node:util';
import { PG_URL } from './fresh-database.js';
import { positive, protocolModes, type ProtocolMode } from './support/cli.js';
import { drainBatched, drainSingle } from './support/drain.js';
import { registerNodes, submitTasks, type WorkOrder } from './support/drover-client.js';
import type { FloorBodies, FloorSetup } from './support/floor-child.js';
import {
  describeProfile,
  postgresDurability,
  graphileRound,
  PEER_PROFILE,
} from './support/graphile.js';
import { HttpClient } from './support/http-client.js';
import { onCleanup, runBounded } from './support/run-bounds.js';
import { processCpuSeconds } from './support/server-process.js';
import { median } from './support/stats.js';
import { forkTypeScript, nextMessage, stopChild } from './support/ts-child.js';
import { withServer } from './support/with-server.js';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' },
    server: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '3' },
    tasks: { type: 'string', default: '6000' },
    nodes: { type: 'string', default: '50' },
    batch: { type: 'string', default: '10' },
    // As bench/peer.ts's: the same warm-up for the floor and for the peer it is set against.
    warmup: { type: 'string', default: '2000' },
    budget: { type: 'string', default: '1800' },
  },
});
type ServerKind = FloorSetup['server'];
const MODES = protocolModes(args.mode);
const SERVERS = (args.server === 'both' ? ['fastify', 'http'] : [args.server]) as ServerKind[];
if (SERVERS.some((s) => s !== 'fastify' && s !== 'http'))
  throw new Error('--server must be fastify, http or both');
const ROUNDS = positive('rounds', args.rounds);
const TASKS = positive('tasks', args.tasks);
const NODES = positive('nodes', args.nodes);
const BATCH = positive('batch', args.batch);
const WARMUP = positive('warmup', args.warmup);
const DRAIN_MS = 5 * 60_000;

/** The answers a real Drover server (SQLite) gives to one task's calls and one batch's. */
async function captureBodies(): Promise<FloorBodies> {
  return withServer('sqlite', 4, async (_server, client) => {
    const [single, batched] = await registerNodes(client, 2, { slots: BATCH });
    await submitTasks(client, 1 + 2 * BATCH, 1 + 2 * BATCH, 'floor');
    const acquired = await client.expect<WorkOrder>(200, 'POST', `/nodes/${single}/acquire`);
    const id = acquired.execution.id;
    const start = await client.expect(200, 'POST', `/executions/${id}/start`, {
      nodeId: single,
    });
    const finish = await client.expect(200, 'POST', `/executions/${id}/finish`, {
      nodeId: single,
      success: true,
      exitCode: 0,
    });
    const claim = await client.expect<{ orders: WorkOrder[] }>(
      200,
      'POST',
      `/nodes/${batched}/claims`,
      { max: BATCH, start: true },
    );
    const finishes = claim.orders.map((o) => ({
      executionId: o.execution.id,
      success: true,
      exitCode: 0,
    }));
    const claimWithFinishes = await client.expect<{ orders: WorkOrder[] }>(
      200,
      'POST',
      `/nodes/${batched}/claims`,
      { max: BATCH, start: true, finishes },
    );
    if (claim.orders.length !== BATCH || claimWithFinishes.orders.length !== BATCH)
      throw new Error(`a claim of ${BATCH} answered fewer orders`);
    return {
      acquire: JSON.stringify(acquired),
      start: JSON.stringify(start),
      finish: JSON.stringify(finish),
      claim: JSON.stringify(claim),
      claimWithFinishes: JSON.stringify(claimWithFinishes),
      finishesOnly: JSON.stringify({ ...claimWithFinishes, orders: [] }),
      batch: BATCH,
    };
  });
}

async function startFloor(setup: FloorSetup) {
  const child = forkTypeScript(new URL('./support/floor-child.ts', import.meta.url), []);
  const close = () => stopChild(child, 'close');
  onCleanup(close);
  const listening = nextMessage<{ url?: string }>(child, (m) => m.url !== undefined);
  child.send({ setup });
  const { url } = await listening;
  const drain = async (mode: ProtocolMode, tasks: number) => {
    const ready = nextMessage<{ ready?: number }>(child, (m) => m.ready === tasks);
    child.send({ tasks });
    await ready;
    const client = new HttpClient(`${url!}/api/v1`, NODES + 8);
    const nodeIds = Array.from({ length: NODES }, (_, n) => n + 1);
    const deadline = Date.now() + DRAIN_MS;
    try {
      return mode === 'single'
        ? await drainSingle(client, nodeIds, tasks, deadline)
        : await drainBatched(client, nodeIds, tasks, BATCH, deadline);
    } finally {
      client.close();
    }
  };
  return { pid: child.pid!, drain, close };
}

async function floor(setup: FloorSetup, mode: ProtocolMode) {
  const server = await startFloor(setup);
  try {
    await server.drain(mode, WARMUP);
    const cpuBefore = processCpuSeconds(server.pid);
    const clientBefore = process.cpuUsage();
    const drained = await server.drain(mode, TASKS);
    const nodes = process.cpuUsage(clientBefore);
    const seconds = drained.elapsedMs / 1000;
    const serverCpu = (processCpuSeconds(server.pid) - cpuBefore) / seconds;
    return {
      tasksPerS: TASKS / seconds,
      serverCpu,
      nodesCpu: (nodes.user + nodes.system) / 1e6 / seconds,
    };
  } finally {
    await server.close();
  }
}

await runBounded(positive('budget', args.budget), async () => {
  console.log(
    `protocol floor: ${TASKS} tasks, ${NODES} nodes, servers ${SERVERS.join(' and ')} with no ` +
      `database behind them; Graphile Worker on PostgreSQL (${await postgresDurability(PG_URL)})`,
  );
  const bodies = await captureBodies();
  const summary: Record<string, string>[] = [];
  for (const mode of MODES) {
    console.log(
      `\n${mode}: ${mode === 'single' ? 'acquire → start → finish' : `claims of ${BATCH} carrying the last batch's finishes`}` +
        ` vs Graphile Worker ${PEER_PROFILE[mode]}: ${describeProfile(PEER_PROFILE[mode])}`,
    );
    const rows: Record<string, string | number>[] = [];
    const ratios = new Map<ServerKind, number[]>(SERVERS.map((s) => [s, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const row: Record<string, string | number> = { round };
      const floors = new Map<ServerKind, number>();
      for (const server of SERVERS) {
        const f = await floor({ server, bodies }, mode);
        floors.set(server, f.tasksPerS);
        row[`${server} tasks/s`] = Math.round(f.tasksPerS);
        row[`${server} server µs/task`] = ((f.serverCpu / f.tasksPerS) * 1e6).toFixed(0);
        row[`${server} nodes µs/task`] = ((f.nodesCpu / f.tasksPerS) * 1e6).toFixed(0);
      }
      const g = (await graphileRound(PEER_PROFILE[mode], TASKS, WARMUP, DRAIN_MS)).jobsPerS;
      row['graphile jobs/s'] = Math.round(g);
      for (const server of SERVERS) {
        const ratio = floors.get(server)! / g;
        ratios.get(server)!.push(ratio);
        row[`${server}/graphile`] = ratio.toFixed(2);
      }
      rows.push(row);
      process.stdout.write(`  round ${round} done\n`);
    }
    console.table(rows);
    for (const server of SERVERS) {
      summary.push({
        mode,
        server,
        peer: `graphile ${PEER_PROFILE[mode]}`,
        'median floor/Graphile': median(ratios.get(server)!).toFixed(2),
      });
    }
  }
  console.table(summary);
});
