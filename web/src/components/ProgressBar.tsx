import type { TaskCounts } from '../api/types';

/** Tasks done / total, with failed and running shares shown in their colours. */
export function ProgressBar({ tasks }: { tasks: TaskCounts }) {
  const total = Math.max(tasks.total, 1);
  const part = (n: number) => `${(100 * n) / total}%`;
  return (
    <div className="progress" title={`${tasks.completed} of ${tasks.total} tasks done`}>
      <div className="progress-track">
        <span className="progress-done" style={{ width: part(tasks.completed) }} />
        <span className="progress-running" style={{ width: part(tasks.running) }} />
        <span className="progress-failed" style={{ width: part(tasks.failed) }} />
      </div>
      <span className="progress-label">
        {tasks.completed}/{tasks.total}
      </span>
    </div>
  );
}
