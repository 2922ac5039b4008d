import { useState } from 'react';
import { api } from '../api/endpoints';
import { TASK_ACTIONS, type Task, type TaskAction } from '../api/types';
import { elapsed, formatTime } from '../lib/format';
import { describeError } from './ErrorMessage';
import { StateBadge } from './StateBadge';

/** One task: its frames, state, node and the actions that apply to a single task. */
export function TaskPanel({
  task,
  nodeName,
  onChanged,
}: {
  task: Task;
  nodeName: (id: number) => string;
  onChanged: () => void;
}) {
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const run = async (action: TaskAction) => {
    setBusy(true);
    try {
      await api.taskAction(task.id, action);
      setMessage(undefined);
      onChanged();
    } catch (error) {
      setMessage(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="task-panel" data-task={task.id}>
      <div className="task-head">
        <strong>Task {task.index}</strong> <span className="muted">frames {task.frames}</span>{' '}
        <StateBadge state={task.state} />
        <span className="muted">
          {task.tries > 0 ? ` · ${task.tries} ${task.tries === 1 ? 'try' : 'tries'}` : ''}
          {task.nodeId !== null ? ` · on ${nodeName(task.nodeId)}` : ''} · started{' '}
          {formatTime(task.startedAt)} · {elapsed(task.startedAt, task.endedAt)}
        </span>
      </div>
      {task.statusMessage !== undefined && (
        <div className="task-status" data-testid="task-status">
          {task.statusMessage}
        </div>
      )}
      <div className="actions small">
        {TASK_ACTIONS.map((action) => (
          <button key={action} type="button" disabled={busy} onClick={() => void run(action)}>
            {action}
          </button>
        ))}
      </div>
      {message && <div className="error">{message}</div>}
    </div>
  );
}
