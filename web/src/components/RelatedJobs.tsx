import { api } from '../api/endpoints';
import { useLoad } from '../lib/hooks';
import { href } from '../lib/router';
import { ErrorMessage } from './ErrorMessage';
import { StateBadge } from './StateBadge';

const SHOWN = 20;

/**
 * The jobs a job waits on, or the jobs that wait on it: a page of the job list filtered
 * by dependency (GET /jobs?dependencyOf= / ?dependsOn=), so a job that hundreds wait on
 * costs one small request. `version` reloads it (a state changed).
 */
export function RelatedJobs({
  jobId,
  relation,
  title,
  version,
}: {
  jobId: number;
  relation: 'dependencyOf' | 'dependsOn';
  title: string;
  version: string;
}) {
  const list = useLoad(
    () => api.jobs({ [relation]: jobId, sort: 'id', limit: SHOWN, offset: 0, deleted: 'include' }),
    [jobId, relation, version],
  );
  const items = list.data?.items ?? [];
  if (!list.error && items.length === 0) return null;
  const more = (list.data?.total ?? 0) - items.length;
  return (
    <>
      <h3>{title}</h3>
      <ErrorMessage error={list.error} onRetry={list.reload} />
      <ul className="deps" data-relation={relation}>
        {items.map((d) => (
          <li key={d.id} data-job={d.id}>
            <a href={href(`/jobs/${d.id}`)}>
              #{d.id} {d.name || '(no name)'}
            </a>{' '}
            <StateBadge state={d.state} deleted={d.deleted} />
          </li>
        ))}
        {more > 0 && <li className="muted">and {more.toLocaleString()} more</li>}
      </ul>
    </>
  );
}
