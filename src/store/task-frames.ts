import type { Executor } from './database.js';
import type { TaskRow } from './schema.js';

/* Reads and writes for changing a job's frames after submission (engine/frame-range-changes). */

export async function tasksOfJob(db: Executor, jobId: number): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('task_index')
    .execute();
}

/** Deletes the tasks of a job from index `first` on (their executions go with them). */
export async function deleteTasksFrom(tx: Executor, jobId: number, first: number): Promise<void> {
  await tx
    .deleteFrom('tasks')
    .where('job_id', '=', jobId)
    .where('task_index', '>=', first)
    .execute();
}
