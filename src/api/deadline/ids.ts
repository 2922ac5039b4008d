/**
 * Deadline names a job by 24 lowercase hex characters (a Mongo ObjectId) and a task by
 * "<jobId>_<taskIndex>". Drover keeps one integer id per job; the Deadline id is that
 * integer written in hex and zero-padded, so it is derived both ways and never stored.
 */

const HEX_ID = /^[0-9a-f]{24}$/i;
const DECIMAL_ID = /^[1-9]\d{0,15}$/;

export function toDeadlineId(jobId: number): string {
  return jobId.toString(16).padStart(24, '0');
}

/**
 * The job id a Deadline id names, or undefined. A native decimal id (shorter than 24
 * characters) is accepted too, so ids copied from the native API or the UI work here.
 */
export function fromDeadlineId(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  let id: number | undefined;
  if (HEX_ID.test(s)) {
    // An ObjectId made elsewhere has far more than 53 significant bits: no Drover job has it.
    if (!/^0{8}/.test(s)) return undefined;
    id = parseInt(s, 16);
  } else if (DECIMAL_ID.test(s)) {
    id = Number(s);
  }
  return id !== undefined && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

export function toDeadlineTaskId(jobId: number, taskIndex: number): string {
  return `${toDeadlineId(jobId)}_${taskIndex}`;
}
