import { useEffect, useState } from 'react';
import { sessionApi, type Session } from '../api/session-endpoints';
import type { LogLine } from '../api/types';
import { elapsed, formatTime } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { ErrorMessage, describeError } from './ErrorMessage';

/** Lines of a session log read for the view; a longer one says where it stops. */
const MAX_LINES = 20_000;

/**
 * The OpenJD sessions that ran the job's tasks (an OpenJD job's, or those that ran a
 * step's): the worker, its state, its actions and times, and one session's own log, the
 * environments' output and a line per task run (each task's output stays in its log).
 * Shown only for a job that has sessions. `version` reloads the list.
 */
export function JobSessions({ jobId, version }: { jobId: number; version: string }) {
  const sessions = useLoad(() => sessionApi.sessions(jobId), [jobId, version]);
  const [open, setOpen] = useState<number>();
  const items = sessions.data?.items ?? [];
  if (!sessions.error && items.length === 0) return null;
  return (
    <section className="card" data-section="sessions">
      <h2>
        Sessions <span className="muted">({(sessions.data?.total ?? 0).toLocaleString()})</span>
      </h2>
      <ErrorMessage error={sessions.error} onRetry={sessions.reload} />
      <div className="table-wrap">
        <table className="executions sessions">
          <thead>
            <tr>
              <th>Session</th>
              <th>Worker</th>
              <th>State</th>
              <th>Actions</th>
              <th>Started</th>
              <th>Ended</th>
              <th>Elapsed</th>
              <th>Why it ended</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((s: Session) => (
              <tr key={s.id} data-session={s.id} aria-selected={open === s.id}>
                <td>#{s.id}</td>
                <td>{s.nodeName ?? `node ${s.nodeId}`}</td>
                <td data-column="state">{s.lifecycleStatus.toLowerCase()}</td>
                <td data-column="actions">{s.actionCount}</td>
                <td>{formatTime(s.startedAt)}</td>
                <td>
                  {s.endedAt ? formatTime(s.endedAt) : <span className="muted">running</span>}
                </td>
                <td>{elapsed(s.startedAt, s.endedAt)}</td>
                <td className="muted">{s.endedReason ?? ''}</td>
                <td>
                  <button type="button" onClick={() => setOpen(open === s.id ? undefined : s.id)}>
                    {open === s.id ? 'Hide log' : 'Log'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open !== undefined && <SessionLog sessionId={open} />}
    </section>
  );
}

function SessionLog({ sessionId }: { sessionId: number }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    setLines([]);
    setError(undefined);
    let stop = false;
    void (async () => {
      try {
        for (let from = 0; !stop && from < MAX_LINES;) {
          const page = await sessionApi.log(sessionId, from);
          if (stop) return;
          setLines((old) => old.concat(page.lines));
          if (page.lines.length === 0 || page.next === from) return;
          from = page.next;
        }
      } catch (e) {
        if (!stop) setError(describeError(e));
      }
    })();
    return () => {
      stop = true;
    };
  }, [sessionId]);
  return (
    <div className="log" data-session-log={sessionId}>
      <div className="log-bar">
        <span>
          Session {sessionId} · {lines.length} lines
        </span>
      </div>
      {error && <div className="error">{error}</div>}
      <pre className="log-lines">
        {lines.map((l) => (
          <div key={l.line} className={`log-line ${l.stream}`}>
            <span className="log-no">{l.line}</span>
            {l.stream === 'worker' && (
              <span className="log-source" title="written by the worker, not by the session">
                worker
              </span>
            )}
            {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
