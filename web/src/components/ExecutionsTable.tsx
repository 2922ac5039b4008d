import type { Execution } from '../api/types';
import { elapsed, formatTime } from '../lib/format';
import { StateBadge } from './StateBadge';

/** Attempts of tasks on nodes: where, when, how long, and how they ended. */
export function ExecutionsTable({
  executions,
  taskIndex,
  nodeName,
  selected,
  onSelect,
}: {
  executions: Execution[];
  taskIndex: (taskId: number) => number | undefined;
  nodeName: (nodeId: number) => string;
  selected: number | undefined;
  onSelect: (execution: Execution) => void;
}) {
  if (executions.length === 0) return <p className="muted">No task has run yet.</p>;
  return (
    <div className="table-wrap">
      <table className="executions">
        <thead>
          <tr>
            <th className="num">ID</th>
            <th className="num">Task</th>
            <th className="num" title="Execution number within the job">
              Exe #
            </th>
            <th>Node</th>
            <th>State</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Took</th>
            <th className="num">Exit</th>
            <th>Error</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {executions.map((e) => (
            <tr key={e.id} className={e.id === selected ? 'selected' : ''} data-execution={e.id}>
              <td className="num">{e.id}</td>
              <td className="num">{taskIndex(e.taskId) ?? '?'}</td>
              <td className="num">{e.exeNum}</td>
              <td>{nodeName(e.nodeId)}</td>
              <td>
                <StateBadge state={e.state} />
              </td>
              <td className="time">{formatTime(e.startedAt ?? e.createdAt)}</td>
              <td className="time">{formatTime(e.endedAt)}</td>
              <td className="time">{elapsed(e.startedAt ?? e.createdAt, e.endedAt)}</td>
              <td className="num">{e.exitCode ?? '—'}</td>
              <td className="error-cell" title={e.error?.message ?? ''}>
                {e.error ? `${e.error.name}${e.error.message ? `: ${e.error.message}` : ''}` : ''}
                {e.timedOut ? ' (timed out)' : ''}
              </td>
              <td>
                <button type="button" className="link" onClick={() => onSelect(e)}>
                  Log
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
