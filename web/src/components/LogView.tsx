import { useEffect, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import type { LogLine } from '../api/types';
import { describeError } from './ErrorMessage';

/** Lines kept on screen; older ones are dropped from the view (not from the server). */
const MAX_LINES = 20_000;

/**
 * An execution's log. While the execution runs it long-polls the server (follow mode), so
 * lines appear as the node sends them; "stick to bottom" keeps the newest line in view.
 */
export function LogView({ executionId }: { executionId: number }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [live, setLive] = useState(false);
  const [error, setError] = useState<string>();
  const [stick, setStick] = useState(true);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLines([]);
    setError(undefined);
    const abort = new AbortController();
    void (async () => {
      let from = 0;
      let follow = true;
      while (!abort.signal.aborted) {
        try {
          const page = await api.logs(executionId, from, follow, abort.signal);
          from = page.next;
          setLive(page.live);
          setError(undefined);
          if (page.lines.length) {
            setLines((old) => {
              const next = old.concat(page.lines);
              return next.length > MAX_LINES ? next.slice(-MAX_LINES) : next;
            });
          }
          // The server answers at once when lines are there, and waits only while it runs.
          if (!page.live && page.lines.length === 0) return;
          follow = page.live;
        } catch (e) {
          if (abort.signal.aborted) return;
          setError(describeError(e));
          await new Promise((resolve) => setTimeout(resolve, 3000));
        }
      }
    })();
    return () => abort.abort();
  }, [executionId]);

  useEffect(() => {
    if (stick && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, stick]);

  return (
    <div className="log">
      <div className="log-bar">
        <span>
          Execution {executionId} · {lines.length} lines
          {live ? <span className="live-dot"> following</span> : ' · finished'}
        </span>
        <label>
          <input type="checkbox" checked={stick} onChange={(e) => setStick(e.target.checked)} />{' '}
          Stick to bottom
        </label>
      </div>
      {error && <div className="error">{error}</div>}
      <pre
        ref={box}
        className="log-lines"
        data-testid="log-lines"
        onScroll={(e) => {
          const el = e.currentTarget;
          setStick(el.scrollTop + el.clientHeight >= el.scrollHeight - 4);
        }}
      >
        {lines.length === 0 ? (
          <span className="muted">{live ? 'Waiting for output…' : 'No output.'}</span>
        ) : (
          lines.map((l) => (
            <div key={l.line} className={`log-line ${l.stream}`}>
              <span className="log-no">{l.line}</span>
              {l.stream === 'worker' && (
                <span className="log-source" title="written by the worker, not by the task">
                  worker
                </span>
              )}
              {l.text}
            </div>
          ))
        )}
      </pre>
    </div>
  );
}
