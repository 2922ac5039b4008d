import { DroverError } from '../../domain/errors.js';
import type { JobRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import { readJobAfterEvent } from '../events/job-reads.js';
import { deleteJob } from './job-actions.js';
import { archiveJob } from './job-archives.js';

/*
 * What happens to a job when it completes, whichever face submitted it: the job's dialect
 * JSON may hold `onComplete: "archive" | "delete"` (Deadline's OnJobComplete). It listens
 * on the event bus, so it acts after the completing transaction committed; with several
 * replicas each one hears the event, and both actions are idempotent under the job's lock
 * (a second archive or delete of the same job changes nothing).
 */

export interface OnCompleteOptions {
  archiveDir: string;
  /** The archive's file name; default `job-<id>.json`. */
  archiveFileName?: (job: JobRow) => string;
  /** Told about failures (the job stays as it is); the server logs them. */
  onError?: (jobId: number, error: unknown) => void;
}

export function startOnCompleteActions(
  ctx: EngineContext,
  options: OnCompleteOptions,
): { stop(): Promise<void> } {
  const running = new Set<Promise<void>>();
  const unsubscribe = ctx.bus.subscribe((event) => {
    if (event.type !== 'job.state' || event.to !== 'COMPLETED') return;
    const work = act(ctx, event.jobId, options)
      .catch((error: unknown) => {
        // Another replica acted first.
        if (error instanceof DroverError && error.code === 'CONFLICT') return;
        options.onError?.(event.jobId, error);
      })
      .finally(() => running.delete(work));
    running.add(work);
  });
  return {
    async stop() {
      unsubscribe();
      await Promise.all([...running]);
    },
  };
}

async function act(ctx: EngineContext, jobId: number, options: OnCompleteOptions): Promise<void> {
  const job = await readJobAfterEvent(ctx, jobId);
  if (!job || job.state !== 'COMPLETED' || job.deleted_at !== null) return;
  let action: unknown;
  try {
    action = (JSON.parse(job.dialect_json) as { onComplete?: unknown }).onComplete;
  } catch {
    return;
  }
  if (action === 'delete') await deleteJob(ctx, jobId);
  else if (action === 'archive' && job.archived_at === null) {
    await archiveJob(ctx, jobId, {
      directory: options.archiveDir,
      ...(options.archiveFileName ? { fileName: options.archiveFileName(job) } : {}),
    });
  }
}
