/*
 * What happens when a task runs past its job's task timeout (Deadline's OnTaskTimeout):
 *
 * - FAIL: the process is killed and the execution fails with error "timeout" (retried while
 *   tries remain). Deadline's Error and ErrorAndNotify; Drover sends no notifications.
 * - COMPLETE: the process is killed and the task counts as done: the execution ends
 *   COMPLETED with its timed-out flag set. Deadline's Complete.
 * - NOTIFY: nothing is killed; the running execution is flagged as timed out and runs to
 *   its natural end. Deadline's Notify (the flag is the only "notification").
 */
export const TASK_TIMEOUT_ACTIONS = ['FAIL', 'COMPLETE', 'NOTIFY'] as const;
export type TaskTimeoutAction = (typeof TASK_TIMEOUT_ACTIONS)[number];

export const DEFAULT_TASK_TIMEOUT_ACTION: TaskTimeoutAction = 'FAIL';

/** Each action in a few words, for people choosing one (the web UI keeps its own copy). */
export const TASK_TIMEOUT_ACTION_TEXT: Record<TaskTimeoutAction, string> = {
  FAIL: 'kill it, fail the try',
  COMPLETE: 'kill it, complete the task',
  NOTIFY: 'flag it, let it run',
};

export function isTaskTimeoutAction(value: unknown): value is TaskTimeoutAction {
  return (TASK_TIMEOUT_ACTIONS as readonly unknown[]).includes(value);
}

/** A stored or reported value as an action; anything unknown reads as the default. */
export function taskTimeoutActionOf(value: unknown): TaskTimeoutAction {
  return isTaskTimeoutAction(value) ? value : DEFAULT_TASK_TIMEOUT_ACTION;
}
