import { DroverError } from '../../domain/errors.js';
import type { Principal } from '../../engine/accounts.js';
import type { JobRow } from '../../store/schema.js';
import { deadlineDataOf, dialectOf } from './dialect-data.js';
import { asBool, keyed } from './values.js';

/*
 * Deadline's `Protected` flag: "can only be deleted or archived by the job's user or a
 * super user". Grants let a pool's manager or a wrangler change other users' jobs; they do
 * not reach past this flag, which only this face knows (it lives in the job's Deadline data).
 */
export function assertMayRemoveProtected(
  principal: Principal | undefined,
  job: JobRow,
  what: 'delete' | 'archive',
): void {
  if (principal?.role === 'admin' || principal?.name === job.user_name) return;
  const info = deadlineDataOf(dialectOf(job))?.jobInfo;
  if (!info || asBool(keyed(info)('Protected')) !== true) return;
  throw new DroverError(
    'FORBIDDEN',
    `job ${job.id} is Protected: only its user (${job.user_name}) or an admin may ${what} it`,
  );
}
