import { sql, type ExpressionBuilder, type SqlBool, type Expression } from 'kysely';
import type { Executor } from './database.js';
import type { Database, TaskRow } from './schema.js';

/*
 * Frame-by-frame dependencies (src/engine/jobs/frame-dependencies.ts): a task of a job is
 * held while a task of a job it depends on frame by frame overlaps its frames and has not
 * COMPLETED, shifted by the job's frame offsets: with offsets -1 and +1, frame 7 waits for
 * frames 6 to 8 of its dependencies. Frames are compared as the tasks' [frame_start, frame_end] spans, so a task of
 * scattered frames ("1-1,6-6") waits on every task between them: later than needed at
 * worst, never earlier. A dependency that ended FAILED or CANCELED holds nothing for a job
 * whose policy is RUN.
 */

type Eb = ExpressionBuilder<Database & { t: Database['tasks']; b: Database['jobs'] }, 't' | 'b'>;

/** Whether task `t` of job `b` has a frame it waits on. */
function heldByFrames(eb: Eb): Expression<SqlBool> {
  return eb.exists(
    eb
      .selectFrom('job_dependencies as d')
      .innerJoin('jobs as dj', 'dj.id', 'd.depends_on_id')
      .innerJoin('tasks as u', 'u.job_id', 'd.depends_on_id')
      .select(sql`1`.as('one'))
      .whereRef('d.job_id', '=', 't.job_id')
      .where('d.by_frame', '=', 1)
      .where('u.state', '!=', 'COMPLETED')
      // Frame N waits for N+start..N+end (Deadline's offsets; both 0 unless given).
      .where('u.frame_start', '<=', eb('t.frame_end', '+', eb.ref('b.frame_offset_end')))
      .where('u.frame_end', '>=', eb('t.frame_start', '+', eb.ref('b.frame_offset_start')))
      .where((e) =>
        e.or([
          e('b.on_dependency_failure', '!=', 'RUN'),
          e('dj.state', 'not in', ['FAILED', 'CANCELED']),
        ]),
      ),
  );
}

/** The job's tasks in `state` that wait on frames (`held`) or no longer do (`!held`). */
export async function tasksByFrameHold(
  db: Executor,
  jobId: number,
  state: 'QUEUED' | 'PENDING',
  held: boolean,
  within?: { start: number; end: number },
): Promise<TaskRow[]> {
  let q = db
    .selectFrom('tasks as t')
    .innerJoin('jobs as b', 'b.id', 't.job_id')
    .selectAll('t')
    .where('t.job_id', '=', jobId)
    .where('t.state', '=', state);
  if (within) {
    // Tasks whose frames, shifted by the offsets, overlap the frames that were done.
    q = q
      .where((eb) =>
        eb('t.frame_start', '<=', eb(eb.val(within.end), '-', eb.ref('b.frame_offset_start'))),
      )
      .where((eb) =>
        eb('t.frame_end', '>=', eb(eb.val(within.start), '-', eb.ref('b.frame_offset_end'))),
      );
  }
  q = q.where((eb) => (held ? heldByFrames(eb) : eb.not(heldByFrames(eb))));
  return q.orderBy('t.task_index').execute();
}

/** Jobs that depend on `jobId` frame by frame and may have tasks to release now. */
export async function frameDependentsOf(db: Executor, jobId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as j', 'j.id', 'd.job_id')
    .select('j.id')
    .where('d.depends_on_id', '=', jobId)
    .where('d.by_frame', '=', 1)
    .where('j.state', 'in', ['QUEUED', 'RUNNING'])
    .orderBy('j.id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/** The frame span of tasks, for releasing only the dependents' tasks that overlap it. */
export async function frameSpanOf(
  db: Executor,
  taskIds: readonly number[],
): Promise<{ start: number; end: number } | undefined> {
  if (taskIds.length === 0) return undefined;
  const row = await db
    .selectFrom('tasks')
    .select((eb) => [eb.fn.min('frame_start').as('start'), eb.fn.max('frame_end').as('end')])
    .where('id', 'in', taskIds)
    .executeTakeFirst();
  if (row?.start === null || row?.start === undefined || row.end === null) return undefined;
  return { start: Number(row.start), end: Number(row.end) };
}
