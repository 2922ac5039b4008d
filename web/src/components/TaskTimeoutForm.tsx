import { useState } from 'react';
import { api } from '../api/endpoints';
import { TASK_TIMEOUT_ACTIONS, type Job, type TaskTimeoutAction } from '../api/types';
import { TIMEOUT_ACTION_TEXT } from '../lib/timeout-actions';
import { describeError } from './ErrorMessage';

/**
 * Changes a job's task timeout and what happens past it, without moving its state
 * (PATCH /jobs/:id). Only what was changed is sent; the server's refusal shows beneath.
 */
export function TaskTimeoutForm({ job, onSaved }: { job: Job; onSaved: (job: Job) => void }) {
  const [seconds, setSeconds] = useState(String(job.taskTimeout));
  const [action, setAction] = useState<TaskTimeoutAction>(job.taskTimeoutAction);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  // Text that is not a whole number goes as is, so the server's message says what it needs.
  const timeout = /^\s*\d+\s*$/.test(seconds) ? Number(seconds) : seconds;
  const changes: Record<string, unknown> = {
    ...(timeout !== job.taskTimeout ? { taskTimeout: timeout } : {}),
    ...(action !== job.taskTimeoutAction ? { taskTimeoutAction: action } : {}),
  };
  const changed = Object.keys(changes).length > 0;

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onSaved(await api.updateJob(job.id, changes));
      setError(undefined);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="timeout-form" onSubmit={(e) => void save(e)} noValidate>
      <input
        aria-label="Task timeout in seconds"
        aria-invalid={error ? true : undefined}
        inputMode="numeric"
        size={7}
        value={seconds}
        onChange={(e) => {
          setSeconds(e.target.value);
          setError(undefined);
        }}
      />
      <span className="muted">s (0 = none), then</span>
      <select
        aria-label="On task timeout"
        value={action}
        onChange={(e) => {
          setAction(e.target.value as TaskTimeoutAction);
          setError(undefined);
        }}
      >
        {TASK_TIMEOUT_ACTIONS.map((a) => (
          <option key={a} value={a}>
            {a}: {TIMEOUT_ACTION_TEXT[a]}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || !changed}>
        Save
      </button>
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}
