import type { HttpClient } from './http-client.js';

/*
 * The calls of Drover's native API the benchmarks make: submitting no-op jobs and
 * registering nodes. The node protocol loops themselves live in drain.ts.
 */

/** The fields of a work order the benchmarks read. */
export interface WorkOrder {
  execution: { id: number };
  task: { id: number };
  job: { id: number };
}

/** Submits `tasks` tasks running `true`, as jobs of `perJob` frames with chunk size 1. */
export async function submitTasks(
  client: HttpClient,
  tasks: number,
  perJob: number,
  name = 'bench',
): Promise<number[]> {
  const ids: number[] = [];
  for (let submitted = 0; submitted < tasks;) {
    const count = Math.min(perJob, tasks - submitted);
    const job = await client.expect<{ id: number }>(201, 'POST', '/jobs', {
      type: 'command-line',
      name: tasks === 1 ? name : `${name} ${ids.length}`,
      frames: `1-${count}`,
      chunkSize: 1,
      parameters: { executable: 'true', arguments: [] },
    });
    ids.push(job.id);
    submitted += count;
  }
  return ids;
}

/** Submits one job of one task running `true`. */
export async function submitNoOp(client: HttpClient, name: string): Promise<number> {
  const ids = await submitTasks(client, 1, 1, name);
  return ids[0]!;
}

/** Registers `count` nodes named `${prefix}-${n}`, `parallel` at a time; returns their ids. */
export async function registerNodes(
  client: HttpClient,
  count: number,
  { prefix = 'bench-node', slots = 1, parallel = 16 } = {},
): Promise<number[]> {
  const ids = new Array<number>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      for (let n = next++; n < count; n = next++) {
        const node = await client.expect<{ id: number }>(200, 'POST', '/nodes', {
          name: `${prefix}-${n}`,
          slots,
        });
        ids[n] = node.id;
      }
    }),
  );
  return ids;
}

/** Throws unless every job has ended (none QUEUED or RUNNING). */
export async function expectAllJobsEnded(client: HttpClient): Promise<void> {
  const open = await client.expect<{ total: number }>(
    200,
    'GET',
    '/jobs?state=QUEUED,RUNNING&limit=1',
  );
  if (open.total !== 0) throw new Error(`${open.total} jobs are still QUEUED or RUNNING`);
}

/** Runs one task of a work order to its end: start, then finish with success. */
export async function startAndFinish(
  client: HttpClient,
  nodeId: number,
  order: WorkOrder,
): Promise<void> {
  const id = order.execution.id;
  await client.expect(200, 'POST', `/executions/${id}/start`, { nodeId });
  await client.expect(200, 'POST', `/executions/${id}/finish`, {
    nodeId,
    success: true,
    exitCode: 0,
  });
}
