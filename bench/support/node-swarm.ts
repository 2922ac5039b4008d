/*
 * Many simulated idle nodes in one client process (forked by nodes.ts): each long-polls
 * `acquire?wait=30`, runs any task it gets to its end at once, and heartbeats every
 * `heartbeatS` seconds, the nodes' heartbeats spread evenly over that period.
 *
 * IPC: receives { ids, heartbeatS, rampS }; sends { type: 'polling' } once every node has
 * sent its first acquire; on 'stop' sends { type: 'stats', … } and exits.
 */
import { startAndFinish, type WorkOrder } from './drover-client.js';
import { HttpClient } from './http-client.js';

interface Orders {
  ids: number[];
  heartbeatS: number;
  rampS: number;
}

const api = process.argv[2];
if (!api || !process.send) throw new Error('usage: node-swarm.ts API_URL (forked, with IPC)');
const send = (message: unknown) => process.send!(message);

const stats = { acquired: 0, emptyPolls: 0, heartbeats: 0, errors: 0, lastError: '' };
let stopped = false;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failed(error: unknown) {
  if (stopped) return;
  stats.errors++;
  stats.lastError = error instanceof Error ? error.message : String(error);
}

async function poll(client: HttpClient, nodeId: number, onFirst: () => void) {
  let first = true;
  while (!stopped) {
    const answer = client.request<WorkOrder>('POST', `/nodes/${nodeId}/acquire?wait=30`);
    if (first) onFirst();
    first = false;
    try {
      const got = await answer;
      if (got.status === 204) stats.emptyPolls++;
      else if (got.status === 200) {
        stats.acquired++;
        await startAndFinish(client, nodeId, got.body);
      } else throw new Error(`acquire answered ${got.status}`);
    } catch (error) {
      failed(error);
      await sleep(1000);
    }
  }
}

async function heartbeat(client: HttpClient, nodeId: number, offsetMs: number, periodMs: number) {
  await sleep(offsetMs);
  while (!stopped) {
    const next = Date.now() + periodMs;
    try {
      await client.expect(200, 'POST', `/nodes/${nodeId}/heartbeat`, {});
      stats.heartbeats++;
    } catch (error) {
      failed(error);
    }
    await sleep(Math.max(0, next - Date.now()));
  }
}

process.once('message', (orders: Orders) => {
  const { ids, heartbeatS, rampS } = orders;
  // One socket per long-poll, and room beside them for heartbeats and reports.
  const client = new HttpClient(api, ids.length * 2 + 64);
  let polling = 0;
  const onFirst = () => {
    if (++polling === ids.length) send({ type: 'polling' });
  };
  ids.forEach((nodeId, i) => {
    // Nodes come up over rampS seconds, so their 30-second long-polls do not all end at once.
    void sleep((i / ids.length) * rampS * 1000).then(() => poll(client, nodeId, onFirst));
    const periodMs = heartbeatS * 1000;
    void heartbeat(client, nodeId, (i / ids.length) * periodMs, periodMs);
  });
  process.on('message', (message) => {
    if (message !== 'stop') return;
    stopped = true;
    send({ type: 'stats', ...stats });
    client.close();
    setTimeout(() => process.exit(0), 100);
  });
});
process.on('disconnect', () => process.exit(0));
