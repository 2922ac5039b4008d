import type { TaskTimeoutAction } from '../api/types';

/** Each task timeout action in a few words, for selects and the job's details. */
export const TIMEOUT_ACTION_TEXT: Record<TaskTimeoutAction, string> = {
  FAIL: 'kill it, fail the try',
  COMPLETE: 'kill it, complete the task',
  NOTIFY: 'flag it, let it run',
};
