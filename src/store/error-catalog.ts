import type { Executor } from './database.js';
import type { ErrorRow } from './schema.js';

/** The error of that name: a job type's own first, then the built-in one. */
export async function findError(
  db: Executor,
  name: string,
  jobTypeName?: string,
): Promise<ErrorRow | undefined> {
  const rows = await db
    .selectFrom('errors')
    .selectAll()
    .where('name', '=', name)
    .where((eb) =>
      jobTypeName === undefined
        ? eb('job_type_name', 'is', null)
        : eb.or([eb('job_type_name', 'is', null), eb('job_type_name', '=', jobTypeName)]),
    )
    .execute();
  return rows.find((r) => r.job_type_name !== null) ?? rows[0];
}

export async function listErrors(db: Executor): Promise<ErrorRow[]> {
  return db.selectFrom('errors').selectAll().orderBy('id').execute();
}
