import type { Executor } from './database.js';
import type { ErrorRow, ErrorsTable } from './schema.js';

/**
 * Sets a job type's own errors (a Seed manifest's `errors`): new names are added, existing
 * ones updated. Errors of the job type that the list no longer names are kept (executions
 * refer to them by name) but stand for no exit code any more.
 */
export async function upsertJobTypeErrors(
  tx: Executor,
  jobTypeName: string,
  errors: Omit<
    ErrorsTable,
    'id' | 'job_type_name' | 'is_builtin' | 'created_at' | 'last_modified'
  >[],
  now: number,
): Promise<void> {
  for (const e of errors) {
    const existing = await tx
      .selectFrom('errors')
      .select('id')
      .where('name', '=', e.name)
      .where('job_type_name', '=', jobTypeName)
      .executeTakeFirst();
    if (existing) {
      await tx
        .updateTable('errors')
        .set({ ...e, last_modified: now })
        .where('id', '=', existing.id)
        .execute();
    } else {
      await tx
        .insertInto('errors')
        .values({
          ...e,
          job_type_name: jobTypeName,
          is_builtin: 0,
          created_at: now,
          last_modified: now,
        })
        .execute();
    }
  }
  const names = errors.map((e) => e.name);
  let dropped = tx
    .updateTable('errors')
    .set({ exit_code: null, last_modified: now })
    .where('job_type_name', '=', jobTypeName)
    .where('exit_code', 'is not', null);
  if (names.length > 0) dropped = dropped.where('name', 'not in', names);
  await dropped.execute();
}

/**
 * The job type's own error that an exit code stands for. Should a manifest give one code to
 * several errors, the first registered wins.
 */
export async function findJobTypeErrorByExitCode(
  db: Executor,
  jobTypeName: string,
  exitCode: number,
): Promise<ErrorRow | undefined> {
  return db
    .selectFrom('errors')
    .selectAll()
    .where('job_type_name', '=', jobTypeName)
    .where('exit_code', '=', exitCode)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

export async function findErrorById(db: Executor, id: number): Promise<ErrorRow | undefined> {
  return db.selectFrom('errors').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findErrorsByIds(db: Executor, ids: readonly number[]): Promise<ErrorRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('errors').selectAll().where('id', 'in', ids).execute();
}

/** Every error of these names: built-in ones and those of any job type. */
export async function findErrorsByNames(
  db: Executor,
  names: readonly string[],
): Promise<ErrorRow[]> {
  if (names.length === 0) return [];
  return db.selectFrom('errors').selectAll().where('name', 'in', names).execute();
}

export async function listErrorsPage(
  db: Executor,
  filter: { isBuiltin?: boolean; jobTypeName?: string; name?: string; categories?: string[] },
  page: { limit: number; offset: number },
): Promise<{ rows: ErrorRow[]; total: number }> {
  let base = db.selectFrom('errors');
  if (filter.isBuiltin !== undefined)
    base = base.where('is_builtin', '=', filter.isBuiltin ? 1 : 0);
  if (filter.jobTypeName !== undefined) base = base.where('job_type_name', '=', filter.jobTypeName);
  if (filter.name !== undefined) base = base.where('name', '=', filter.name);
  if (filter.categories?.length) base = base.where('category', 'in', filter.categories as never);
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute(),
    base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}
