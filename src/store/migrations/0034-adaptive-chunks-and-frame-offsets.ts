import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/*
 * Adaptive chunking (src/engine/tasks/adaptive-chunks.ts): a job with `target_task_seconds`
 * above 0 re-chunks its unclaimed tail of tasks toward that duration as its tasks complete;
 * `chunk_contiguous` 1 keeps every chunk a run of consecutive integers (OpenJD's CONTIGUOUS).
 *
 * Frame dependency offsets (Deadline's FrameDependencyOffsetStart/End): a frame-dependent
 * job's frame N waits for frames N+start..N+end of its dependencies
 * (src/store/frame-holds.ts). Both 0 is the same-frame dependency of 0027.
 */
export function adaptiveChunksAndFrameOffsetsSchema(_dialect: DialectName) {
  async function up(db: Kysely<unknown>): Promise<void> {
    for (const column of [
      'target_task_seconds',
      'chunk_contiguous',
      'frame_offset_start',
      'frame_offset_end',
    ]) {
      await db.schema
        .alterTable('jobs')
        .addColumn(column, 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    }
  }
  return { up };
}
