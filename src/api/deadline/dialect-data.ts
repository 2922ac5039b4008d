import type { JobRow } from '../../store/schema.js';
import { isRecord } from './values.js';

/*
 * What this face keeps of a submission in the job's dialect JSON (the engine stores it and
 * never reads inside `deadline`). `onComplete` sits beside it at the top level because the
 * engine acts on it whichever face changes the job (src/engine/jobs/on-complete.ts).
 */

export interface DeadlineData {
  /** The plugin named at submission. */
  plugin: string;
  /** The JobInfo as sent, typed values kept, unknown keys included. */
  jobInfo: Record<string, unknown>;
  pluginInfo: Record<string, unknown>;
  aux: string[];
  /** Props.White: the listed workers are an allow list (true) or a deny list (false). */
  white: boolean;
  /** Props set through `save` that the engine does not hold (Ex0..9, ExDic, Env, …). */
  props: Record<string, unknown>;
}

export interface DialectData {
  onComplete?: 'archive' | 'delete' | 'nothing';
  deadline?: DeadlineData;
  [key: string]: unknown;
}

export function dialectOf(job: Pick<JobRow, 'dialect_json'>): DialectData {
  try {
    const parsed = JSON.parse(job.dialect_json) as unknown;
    return isRecord(parsed) ? (parsed as DialectData) : {};
  } catch {
    return {};
  }
}

export function deadlineDataOf(dialect: DialectData): DeadlineData | undefined {
  const d = dialect.deadline;
  return isRecord(d) ? d : undefined;
}

/** Applies `edit` to the Deadline part of a dialect JSON, creating it for foreign jobs. */
export function withDeadline(
  current: DialectData,
  edit: (data: NonNullable<DialectData['deadline']>) => void,
): DialectData {
  const existing = deadlineDataOf(current);
  const data = existing
    ? { ...existing, props: { ...(existing.props ?? {}) } }
    : { plugin: '', jobInfo: {}, pluginInfo: {}, aux: [], white: false, props: {} };
  edit(data);
  // A job submitted elsewhere keeps showing its own plugin.
  const next: DialectData = { ...current, deadline: data };
  if (!existing && data.plugin === '') {
    const rest: Partial<typeof data> = { ...data };
    delete rest.plugin;
    next.deadline = rest as NonNullable<DialectData['deadline']>;
  }
  return next;
}
