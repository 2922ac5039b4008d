import { useState } from 'react';
import { api } from '../api/endpoints';
import type { Job } from '../api/types';
import {
  DEPENDENCY_FAILURE_POLICIES,
  DEPENDENCY_FAILURE_TEXT,
  parseJobIds,
  type DependencyFailurePolicy,
} from '../lib/dependencies';
import { describeError } from './ErrorMessage';

/**
 * Changes the jobs a job waits on and what it does when one fails or is canceled
 * (PATCH /jobs/:id: `dependencies`, `onDependencyFailure`; on a parent both reach its
 * steps). Only what was changed is sent; the server's refusal shows beneath. Whether it
 * waits frame by frame is set at submission.
 */
export function DependencyForm({ job, onSaved }: { job: Job; onSaved: (job: Job) => void }) {
  const shown = (job.dependencies ?? []).join(', ');
  const [ids, setIds] = useState(shown);
  const [policy, setPolicy] = useState<DependencyFailurePolicy>(job.onDependencyFailure);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const parsed = parseJobIds(ids);
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const changes: Record<string, unknown> = {
    ...('ids' in parsed && !same(parsed.ids, job.dependencies ?? [])
      ? { dependencies: parsed.ids }
      : {}),
    ...(policy !== job.onDependencyFailure ? { onDependencyFailure: policy } : {}),
  };
  const changed = Object.keys(changes).length > 0 || 'error' in parsed;

  const save = async (event: React.FormEvent) => {
    event.preventDefault();
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
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
    <form
      className="dependency-form"
      data-testid="dependency-form"
      onSubmit={(e) => void save(e)}
      noValidate
    >
      <span className="muted">Waits for</span>
      <input
        aria-label="Depends on (job ids)"
        aria-invalid={error ? true : undefined}
        placeholder="no job"
        size={12}
        value={ids}
        onChange={(e) => {
          setIds(e.target.value);
          setError(undefined);
        }}
      />
      <span className="muted">; if one fails:</span>
      <select
        aria-label="If a dependency fails"
        value={policy}
        onChange={(e) => {
          setPolicy(e.target.value as DependencyFailurePolicy);
          setError(undefined);
        }}
      >
        {DEPENDENCY_FAILURE_POLICIES.map((p) => (
          <option key={p} value={p}>
            {p}: {DEPENDENCY_FAILURE_TEXT[p]}
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
