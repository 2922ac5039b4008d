import { useState } from 'react';
import { download } from '../api/client';
import type { Output } from '../api/types';
import { formatBytes } from '../lib/format';
import { describeError } from './ErrorMessage';

/** A job's output files; each downloads through fetch so the token goes with it. */
export function OutputsList({ outputs }: { outputs: Output[] }) {
  const [error, setError] = useState<string>();
  if (outputs.length === 0) return <p className="muted">No outputs yet.</p>;
  return (
    <>
      {error && <div className="error">{error}</div>}
      <ul className="outputs">
        {outputs.map((o) => (
          <li key={o.id}>
            <button
              type="button"
              className="link"
              onClick={() =>
                download(`/outputs/${o.id}/content`, o.name.split('/').at(-1) ?? 'output').catch(
                  (e: unknown) => setError(describeError(e)),
                )
              }
            >
              {o.name}
            </button>{' '}
            <span className="muted">
              {formatBytes(o.size)} · {o.type}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
