import { findJobs } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';

/*
 * The bus delivers a transaction's events together, and several listeners read the jobs
 * they name (what to do on completion, whether a job is re-chunked): each read alone was a
 * query, two per job of one task. The reads asked for in one turn of the event loop are
 * made as one query. In bench/peer.ts (single-task protocol, PostgreSQL, 50 nodes, jobs of
 * one task) the two listeners' reads were 6,000 queries for 3,000 tasks, 3.7 ms each from
 * send to answer; batched, they are one query per commit of the write lane.
 */

interface Batch {
  waiting: Map<number, ((job: JobRow | undefined) => void)[]>;
  failed: ((error: unknown) => void)[];
}

const batches = new WeakMap<EngineContext, Batch>();

/** The job as it is now (after the commit that announced it), or undefined if gone. */
export function readJobAfterEvent(ctx: EngineContext, jobId: number): Promise<JobRow | undefined> {
  return new Promise((resolve, reject) => {
    let batch = batches.get(ctx);
    if (!batch) {
      const made: Batch = (batch = { waiting: new Map(), failed: [] });
      batches.set(ctx, made);
      setImmediate(() => {
        batches.delete(ctx);
        void read(ctx, made);
      });
    }
    const waiting = batch.waiting.get(jobId) ?? [];
    waiting.push(resolve);
    batch.waiting.set(jobId, waiting);
    batch.failed.push(reject);
  });
}

async function read(ctx: EngineContext, batch: Batch): Promise<void> {
  try {
    const rows = new Map((await findJobs(ctx.db, [...batch.waiting.keys()])).map((j) => [j.id, j]));
    for (const [id, resolves] of batch.waiting)
      for (const resolve of resolves) resolve(rows.get(id));
  } catch (error) {
    for (const reject of batch.failed) reject(error);
  }
}
