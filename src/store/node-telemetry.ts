import { sql } from 'kysely';
import type { TelemetryPoint } from '../domain/node-telemetry.js';
import type { Executor } from './database.js';
import type { NodeTelemetryTable } from './schema.js';

/** The node's latest report, as validated JSON. */
export async function saveLatestTelemetry(
  tx: Executor,
  nodeId: number,
  json: string,
  now: number,
): Promise<void> {
  await tx
    .updateTable('nodes')
    .set({ telemetry_json: json, telemetry_at: now })
    .where('id', '=', nodeId)
    .execute();
}

const AVERAGED = [
  'cpu_percent',
  'mem_used_bytes',
  'mem_total_bytes',
  'load1',
  'disk_free_bytes',
  'gpu_percent',
  'gpu_mem_used_bytes',
] as const;

/**
 * Adds a report to the point of its step: a new point, or the running mean of the one
 * there (a figure a report leaves out does not move the mean).
 */
export async function addTelemetryPoint(
  tx: Executor,
  nodeId: number,
  stepS: number,
  bucketAt: number,
  point: TelemetryPoint,
): Promise<void> {
  const values = {
    cpu_percent: point.cpuPercent,
    mem_used_bytes: point.memUsedBytes,
    mem_total_bytes: point.memTotalBytes,
    load1: point.load1,
    disk_free_bytes: point.diskFreeBytes,
    gpu_percent: point.gpuPercent,
    gpu_mem_used_bytes: point.gpuMemUsedBytes,
  };
  const mean = (column: (typeof AVERAGED)[number]) =>
    sql<number>`case when excluded.${sql.ref(column)} is null then node_telemetry.${sql.ref(column)}
      when node_telemetry.${sql.ref(column)} is null then excluded.${sql.ref(column)}
      else (node_telemetry.${sql.ref(column)} * node_telemetry.samples + excluded.${sql.ref(column)})
        / (node_telemetry.samples + 1) end`;
  await tx
    .insertInto('node_telemetry')
    .values({ node_id: nodeId, step_s: stepS, bucket_at: bucketAt, samples: 1, ...values })
    .onConflict((oc) =>
      oc.columns(['node_id', 'step_s', 'bucket_at']).doUpdateSet({
        samples: sql<number>`node_telemetry.samples + 1`,
        ...Object.fromEntries(AVERAGED.map((c) => [c, mean(c)])),
      }),
    )
    .execute();
}

/** A node's points of one step in [from, to), oldest first. */
export async function telemetryHistory(
  db: Executor,
  options: { nodeId: number; stepS: number; from: number; to: number; limit: number },
): Promise<NodeTelemetryTable[]> {
  return db
    .selectFrom('node_telemetry')
    .selectAll()
    .where('node_id', '=', options.nodeId)
    .where('step_s', '=', options.stepS)
    .where('bucket_at', '>=', options.from)
    .where('bucket_at', '<', options.to)
    .orderBy('bucket_at')
    .limit(options.limit)
    .execute();
}

/** Deletes the points of a step older than `before`; answers how many. */
export async function pruneTelemetry(tx: Executor, stepS: number, before: number): Promise<number> {
  const result = await tx
    .deleteFrom('node_telemetry')
    .where('step_s', '=', stepS)
    .where('bucket_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
