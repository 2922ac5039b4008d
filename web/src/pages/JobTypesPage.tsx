import { useEffect, useState } from 'react';
import { api } from '../api/endpoints';
import type { JobType } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatTime } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { href, type Route } from '../lib/router';

function Revisions({ type }: { type: JobType }) {
  const revisions = useLoad(() => api.jobTypeRevisions(type.id), [type.id]);
  const [shown, setShown] = useState(type.revision);
  useEffect(() => setShown(type.revision), [type]);
  const current = revisions.data?.find((r) => r.revision === shown);
  return (
    <section className="card">
      <h2>
        {type.title || type.name}{' '}
        <span className="muted">
          {type.name} {type.version}
        </span>
      </h2>
      {type.description && <p>{type.description}</p>}
      <ErrorMessage error={revisions.error} onRetry={revisions.reload} />
      <div className="revisions" role="tablist" aria-label="Revisions">
        {(revisions.data ?? []).map((r) => (
          <button
            key={r.revision}
            type="button"
            role="tab"
            aria-selected={r.revision === shown}
            className={r.revision === shown ? 'chip on' : 'chip'}
            onClick={() => setShown(r.revision)}
          >
            revision {r.revision}
          </button>
        ))}
      </div>
      {current && (
        <>
          <p className="muted">Created {formatTime(current.createdAt)}</p>
          <pre className="definition">{JSON.stringify(current.definition, null, 2)}</pre>
        </>
      )}
    </section>
  );
}

export function JobTypesPage({ route }: { route: Route }) {
  const types = useLoad(() => api.jobTypes(), []);
  const name = route.params.get('name');
  const items = types.data?.items ?? [];
  const selected = items.find((t) => t.name === name) ?? items[0];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Job types</h1>
      </div>
      <ErrorMessage error={types.error} onRetry={types.reload} />
      <div className="split">
        <ul className="type-list">
          {items.map((t) => (
            <li key={t.id} className={t.id === selected?.id ? 'on' : ''}>
              <a href={href('/job-types', { name: t.name })}>
                <strong>{t.name}</strong> <span className="muted">v{t.version}</span>
                <br />
                <span className="muted">
                  {t.category} · revision {t.revision}
                  {!t.active && ' · inactive: takes no new jobs'}
                </span>
              </a>
            </li>
          ))}
        </ul>
        {selected && <Revisions type={selected} />}
      </div>
    </div>
  );
}
