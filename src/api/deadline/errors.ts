import { DroverError } from '../../domain/errors.js';
import { asInputError } from '../input-guards.js';

/*
 * Deadline answers errors as short text with a 4xx/5xx status (seed: 400 for a missing
 * body, Command, JobID or list; 500 for an unknown command, an unknown job, or "an
 * exception occurred within the Deadline code"). The 10.1+ Python client turns any of them
 * into None; the older clients and the Go client show the text, so it says what to fix.
 */

export class DeadlineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export const badRequest = (message: string): DeadlineError => new DeadlineError(400, message);
export const serverError = (message: string): DeadlineError => new DeadlineError(500, message);

export const noJob = (id: unknown): DeadlineError =>
  serverError(
    `Job ID provided does not correspond to a Job in the repository: ${String(id ?? '')}`,
  );

/** Status and text body of any error; Drover's own errors keep their message. */
export function deadlineErrorOf(raw: unknown): { status: number; text: string } {
  const error = asInputError(raw);
  if (error instanceof DeadlineError)
    return { status: error.status, text: `Error: ${error.message}` };
  if (error instanceof DroverError) {
    // A job or task that is not there, or a move its state forbids, is Deadline's 500.
    const status =
      error.code === 'VALIDATION'
        ? 400
        : error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN'
          ? error.status
          : error.code === 'PAYLOAD_TOO_LARGE'
            ? 413
            : 500;
    return { status, text: `Error: ${error.message}` };
  }
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, text: 'Error: the request body is too large' };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, text: `Error: ${String(e.message)}` };
  }
  return { status: 500, text: 'Error: An exception occurred within the Deadline code.' };
}
