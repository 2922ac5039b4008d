import type { Job, JobSchedule, Weekday } from '../api/types';
import { DEPENDENCY_FAILURE_TEXT, describeFrameDependency } from '../lib/dependencies';
import { elapsed, formatTime } from '../lib/format';
import { href } from '../lib/router';
import { TIMEOUT_ACTION_TEXT } from '../lib/timeout-actions';

const seconds = (s: number) => (s === 0 ? 'none' : `${s} s`);

/** The settings and times of a job, as a definition list. */
export function JobDetails({ job, steps = [] }: { job: Job; steps?: Job[] }) {
  const items: Array<[string, React.ReactNode]> = [
    [
      'Type',
      <a
        href={href('/job-types', { name: job.type.name })}
      >{`${job.type.name} ${job.type.version}`}</a>,
    ],
    ['User', job.user],
    ['Priority', job.priority],
    ['Pool / group', `${job.pool || '—'} / ${job.group || '—'}`],
    // A multi-step job runs nothing itself: its frames and tasks are its steps'.
    job.steps
      ? [
          'Steps',
          <>
            {`${job.steps.completed} done, ${job.steps.running} running, ${job.steps.failed} failed of ${job.steps.total}`}
            {steps.length > 0 && (
              <ul className="step-progress">
                {steps.map((s) => (
                  <li key={s.id} data-step={s.childName ?? s.name}>
                    <a href={href(`/jobs/${s.id}`)}>{s.childName ?? s.name}</a>{' '}
                    {`${s.tasks.completed}/${s.tasks.total} tasks, ${s.state.toLowerCase()}`}
                    {s.tasks.failed > 0 && `, ${s.tasks.failed} failed`}
                  </li>
                ))}
              </ul>
            )}
          </>,
        ]
      : ['Frames', job.frames ? `${job.frames} (chunks of ${job.chunkSize})` : 'none (one task)'],
    [
      job.steps ? "Steps' tasks" : 'Tasks',
      `${job.tasks.completed} done, ${job.tasks.running} running, ${job.tasks.queued} queued, ${job.tasks.failed} failed of ${job.tasks.total}`,
    ],
    ['Submitted', formatTime(job.createdAt)],
    ['Started', formatTime(job.startedAt)],
    ['Ended', formatTime(job.endedAt)],
    ['Run time', elapsed(job.startedAt, job.endedAt)],
    ['Max tries', job.maxTries],
    ['Task timeout', seconds(job.taskTimeout)],
    ['On timeout', `${job.taskTimeoutAction}: ${TIMEOUT_ACTION_TEXT[job.taskTimeoutAction]}`],
    ['Job timeout', seconds(job.jobTimeout)],
    ['Machine limit', job.machineLimit || 'none'],
    [
      'If a dependency fails',
      `${job.onDependencyFailure}: ${DEPENDENCY_FAILURE_TEXT[job.onDependencyFailure]}`,
    ],
    ['Frame by frame', describeFrameDependency(job)],
  ];
  if (job.nodeList.mode !== 'NONE') {
    items.push([
      job.nodeList.mode === 'ALLOW' ? 'Only on' : 'Never on',
      (job.nodeList.nodes ?? []).join(', '),
    ]);
  }
  if (job.protected) {
    items.push(['Protected', `only ${job.user} or an admin may delete or archive it`]);
  }
  if (job.comment) items.push(['Comment', job.comment]);
  if (job.pendReason) items.push(['Pended', job.pendReason]);
  if (job.schedule) items.push(['Schedule', describeSchedule(job.schedule)]);
  if (job.nextScheduleAt) items.push(['Next schedule event', formatTime(job.nextScheduleAt)]);
  if (job.suspendReason === 'SCHEDULE')
    items.push(['Suspended', 'by its schedule, until the next start']);
  const params = Object.entries(job.parameters);
  return (
    <>
      <dl className="details">
        {items.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {params.length > 0 && (
        <details className="params">
          <summary>Parameters</summary>
          <pre>{JSON.stringify(job.parameters, null, 2)}</pre>
        </details>
      )}
    </>
  );
}

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A schedule in a line: times of day are the server's local time. */
function describeSchedule(schedule: JobSchedule): string {
  switch (schedule.kind) {
    case 'once':
      return `once: from ${formatTime(schedule.start ?? null)}${schedule.stop ? ` to ${formatTime(schedule.stop)}` : ''}`;
    case 'daily': {
      const every = schedule.everyDays === 1 ? 'every day' : `every ${schedule.everyDays} days`;
      const until = schedule.stopTime ? ` to ${schedule.stopTime}` : '';
      return `${every} from ${schedule.startDate}, ${schedule.startTime}${until} (server time)`;
    }
    case 'custom':
      return (
        WEEKDAYS.flatMap((d) => {
          const w = schedule.days?.[d];
          return w ? [[d, w] as const] : [];
        })
          .map(([d, w]) => {
            return `${d} ${[w.start && `start ${w.start}`, w.stop && `stop ${w.stop}`].filter(Boolean).join(', ')}`;
          })
          .join('; ') + ' (server time)'
      );
  }
}
