import type { Selectable } from 'kysely';
import type { Executor } from './database.js';
import type { OutputsTable } from './schema.js';

export type OutputRow = Selectable<OutputsTable>;

export async function insertOutput(
  tx: Executor,
  row: Omit<OutputsTable, 'id' | 'deleted_at'>,
): Promise<number> {
  const { id } = await tx
    .insertInto('outputs')
    .values({ ...row, deleted_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(id);
}

/**
 * Marks deleted the live outputs of that name that earlier executions of the same task
 * uploaded: a retried task uploads its files again, and the newest upload is the one the
 * job shows. Other tasks' files of the same name stay.
 */
export async function supersedeOutputs(
  tx: Executor,
  jobId: number,
  taskId: number,
  name: string,
  now: number,
): Promise<void> {
  await tx
    .updateTable('outputs')
    .set({ deleted_at: now })
    .where('job_id', '=', jobId)
    .where('name', '=', name)
    .where('deleted_at', 'is', null)
    .where('execution_id', 'in', (eb) =>
      eb.selectFrom('executions').select('id').where('task_id', '=', taskId),
    )
    .execute();
}

export async function findOutput(db: Executor, id: number): Promise<OutputRow | undefined> {
  return db.selectFrom('outputs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A job's outputs that are not deleted, by name. */
export async function listOutputsOfJob(db: Executor, jobId: number): Promise<OutputRow[]> {
  return db
    .selectFrom('outputs')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('deleted_at', 'is', null)
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** The live outputs one execution uploaded, by name. */
export async function listOutputsOfExecution(
  db: Executor,
  executionId: number,
): Promise<OutputRow[]> {
  return db
    .selectFrom('outputs')
    .selectAll()
    .where('execution_id', '=', executionId)
    .where('deleted_at', 'is', null)
    .orderBy('name')
    .execute();
}
