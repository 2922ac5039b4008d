import { parentPort, workerData } from 'node:worker_threads';
import {
  BATCH,
  drawBatch,
  requestArb,
  sendAll,
  type Face,
  type Finding,
  type FuzzBases,
  type FuzzPlan,
} from './requests.js';

/*
 * A fuzz client in a thread of its own, so that drawing and sending requests does not take
 * the event loop of the server under test. The threads of one run share a batch counter:
 * each takes the next batch index, draws that batch from its seed and sends it, so the
 * requests of a run are those of a single client, in a different order.
 */

export interface ClientThreadData {
  plan: FuzzPlan;
  bases: FuzzBases;
  face: Face;
  runs: number;
  seed: number;
  concurrency: number;
  /** One Int32: the next batch index to take. */
  nextBatch: SharedArrayBuffer;
}

export type ClientThreadMessage =
  | { kind: 'batch'; sent: number; statuses: Record<string, number>; findings: Finding[] }
  | { kind: 'done' };

const data = workerData as ClientThreadData;
const counter = new Int32Array(data.nextBatch);
const arb = requestArb(data.plan, data.face);
for (;;) {
  const b = Atomics.add(counter, 0, 1);
  const count = Math.min(BATCH, data.runs - b * BATCH);
  if (count <= 0) break;
  const statuses: Record<string, number> = {};
  const findings: Finding[] = [];
  await sendAll(data.bases, drawBatch(arb, data.seed, b, count), data.concurrency, (s, f) => {
    statuses[String(s)] = (statuses[String(s)] ?? 0) + 1;
    if (f) findings.push(f);
  });
  parentPort!.postMessage({ kind: 'batch', sent: count, statuses, findings });
}
parentPort!.postMessage({ kind: 'done' });
