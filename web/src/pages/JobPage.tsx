import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverEvent, Execution, Job, Page, Task } from '../api/types';
import { BadNodes } from '../components/BadNodes';
import { BulkActions } from '../components/BulkActions';
import { DependencyForm } from '../components/DependencyForm';
import { ErrorMessage } from '../components/ErrorMessage';
import { ExecutionsTable } from '../components/ExecutionsTable';
import { FailureBanner, useFirstFailure } from '../components/FailureBanner';
import { JobDetails } from '../components/JobDetails';
import { JobHistory } from '../components/JobHistory';
import { JobSessions } from '../components/JobSessions';
import { JobSteps } from '../components/JobSteps';
import { JobUsage } from '../components/JobUsage';
import { LiveBadge } from '../components/LiveBadge';
import { LogView } from '../components/LogView';
import { Notice, type NoticeText } from '../components/Notice';
import { OutputsList } from '../components/OutputsList';
import { Pager } from '../components/Pager';
import { ProgressBar } from '../components/ProgressBar';
import { RelatedJobs } from '../components/RelatedJobs';
import { StateBadge } from '../components/StateBadge';
import { STATE_COLOURS, TaskGrid } from '../components/TaskGrid';
import { TaskPanel } from '../components/TaskPanel';
import { TaskTimeoutForm } from '../components/TaskTimeoutForm';
import { useLoad, useThrottle } from '../lib/hooks';
import { href, navigate, type Route } from '../lib/router';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
const EXECUTIONS_PER_PAGE = 25;

/** Every task of a job, a thousand per request (the API's largest page). */
async function allTasks(jobId: number): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api.tasks(jobId, offset);
    tasks.push(...page.items);
    if (page.items.length === 0 || tasks.length >= page.total) return tasks;
  }
}

/** The newest executions first unless a page was asked for. */
async function executionsPage(jobId: number, offset: number | undefined): Promise<Page<Execution>> {
  const first = await api.executions({ job: jobId }, offset ?? 0, EXECUTIONS_PER_PAGE);
  if (offset !== undefined || first.total <= EXECUTIONS_PER_PAGE) return first;
  return api.executions({ job: jobId }, first.total - EXECUTIONS_PER_PAGE, EXECUTIONS_PER_PAGE);
}

export function JobPage({ id, route }: { id: number; route: Route }) {
  const taskParam = Number(route.params.get('task')) || undefined;
  const exeParam = Number(route.params.get('exe')) || undefined;
  const [execOffset, setExecOffset] = useState<number>();
  const [notice, setNotice] = useState<NoticeText>();

  // A multi-step job's steps, as its Steps card last read them.
  const [steps, setSteps] = useState<Job[]>([]);
  const job = useLoad(() => api.job(id), [id]);
  const tasks = useLoad(() => allTasks(id), [id]);
  const [taskList, setTaskList] = useState<Task[]>([]);
  useEffect(() => setTaskList(tasks.data ?? []), [tasks.data]);
  const executions = useLoad(() => executionsPage(id, execOffset), [id, execOffset]);
  const outputs = useLoad(() => api.outputs(id), [id]);
  const nodes = useLoad(() => api.nodes(0, 1000), []);
  const history = useLoad(() => api.audit(id), [id]);
  const state = job.data?.state;
  const reasons = useLoad(
    () =>
      state && !TERMINAL.has(state) && state !== 'RUNNING'
        ? api.waitingReasons(id)
        : Promise.resolve({ reasons: [] }),
    [id, state],
  );

  const failure = useFirstFailure(job.data);

  const nodeName = useCallback(
    (nodeId: number) => nodes.data?.items.find((n) => n.id === nodeId)?.name ?? `node ${nodeId}`,
    [nodes.data],
  );
  const byId = useMemo(() => new Map(taskList.map((t) => [t.id, t])), [taskList]);

  const reloadJob = useThrottle(job.reload, 700);
  const reloadTasks = useThrottle(tasks.reload, 1500);
  const reloadExecutions = useThrottle(executions.reload, 700);
  const reloadOutputs = useThrottle(outputs.reload, 2000);
  const reloadHistory = useThrottle(history.reload, 700);
  const live = useEvents(
    ['job', 'task', 'execution', 'audit'],
    (event: DroverEvent) => {
      // Written once the request that changed the job is answered, through any face.
      if (event.type === 'audit.recorded') reloadHistory();
      if (event.type.startsWith('job.')) reloadJob();
      if (event.type === 'task.state') {
        reloadJob();
        // Small moves come with their task ids and are applied in place; large ones reload.
        if (event.taskIds.length < event.count) reloadTasks();
        else {
          const moved = new Set(event.taskIds);
          const now = new Date().toISOString();
          setTaskList((old) =>
            old.map((t) =>
              moved.has(t.id)
                ? { ...t, state: event.to as Task['state'], lastStatusChange: now }
                : t,
            ),
          );
        }
      }
      if (event.type === 'task.progress') {
        setTaskList((old) =>
          old.map((t) => (t.id === event.taskId ? { ...t, progress: event.progress } : t)),
        );
      }
      if (event.type === 'execution.state') {
        reloadExecutions();
        reloadTasks();
        if (event.to === 'COMPLETED') reloadOutputs();
      }
    },
    id,
  );

  // The task shown: the one asked for, else the first running one (to watch its log), else
  // the first failed one (to read why).
  const firstFailed = failure.data?.task;
  const selectedTask =
    (taskParam !== undefined ? byId.get(taskParam) : undefined) ??
    taskList.find((t) => t.state === 'RUNNING') ??
    (firstFailed ? (byId.get(firstFailed.id) ?? firstFailed) : undefined);
  const executionId = exeParam ?? selectedTask?.lastExecutionId ?? undefined;

  const select = (params: Record<string, string>) =>
    navigate(`/jobs/${id}`, new URLSearchParams(params), true);

  // Usage and bad nodes change when an execution ends: the executions' page says when.
  const endedVersion = `${executions.data?.total ?? 0} ${
    executions.data?.items.filter((e) => e.endedAt).length ?? 0
  }`;

  const j: Job | undefined = job.data;
  if (job.error && !j) {
    return (
      <div className="page">
        <p>
          <a href={href('/jobs')}>← Jobs</a>
        </p>
        <ErrorMessage error={job.error} onRetry={job.reload} />
      </div>
    );
  }
  if (!j) return <div className="page muted">Loading job {id}…</div>;

  const counts = Object.entries(STATE_COLOURS)
    .map(([s, colour]) => ({ s, colour, n: taskList.filter((t) => t.state === s).length }))
    .filter((c) => c.n > 0);

  return (
    <div className="page job-page">
      <div className="page-head">
        <a href={href('/jobs')} className="back">
          ← Jobs
        </a>
        <h1>
          <span className="muted">#{j.id}</span> {j.name || '(no name)'}
        </h1>
        <StateBadge state={j.state} deleted={j.deleted} />
        <div className="head-progress">
          {/* A multi-step job's: its steps' tasks added up, by the server. */}
          <ProgressBar tasks={j.tasks} />
        </div>
        <LiveBadge live={live} />
      </div>
      <div className="toolbar">
        <BulkActions
          jobs={[j]}
          hideInvalid
          onDone={(text, failed) => {
            setNotice({ text, failed });
            job.reload();
            tasks.reload();
          }}
        />
      </div>
      {j.parentId !== undefined && (
        <p className="muted" data-testid="parent-job">
          Step {j.childName ?? ''} of <a href={href(`/jobs/${j.parentId}`)}>job #{j.parentId}</a>
        </p>
      )}
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={job.error} onRetry={job.reload} />
      <FailureBanner
        job={j}
        failure={failure.data}
        nodeName={nodeName}
        onOpen={(f) =>
          select({
            task: String(f.task.id),
            ...(f.execution ? { exe: String(f.execution.id) } : {}),
          })
        }
      />
      {(reasons.data?.reasons.length ?? 0) > 0 && (
        <div className="waiting" data-testid="waiting-reasons">
          <strong>Why it is not running:</strong>
          <ul>
            {reasons.data!.reasons.map((r) => (
              <li key={r.code}>
                {r.message} <span className="muted">({r.code})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <JobSteps
        parentId={j.id}
        version={`${j.lastModified} ${j.state}`}
        onStepEvent={reloadJob}
        onSteps={setSteps}
      />
      <div className={`job-grid${j.steps && taskList.length === 0 ? ' no-tasks' : ''}`}>
        <section className="card">
          <h2>Details</h2>
          <JobDetails job={j} steps={steps} />
          <h3>Change the task timeout</h3>
          <TaskTimeoutForm
            // A change made elsewhere (an event reloads the job) resets the form to it.
            key={`${j.taskTimeout} ${j.taskTimeoutAction}`}
            job={j}
            onSaved={(saved) => {
              setNotice({
                text: `Saved: task timeout ${saved.taskTimeout ? `${saved.taskTimeout} s` : 'none'}, then ${saved.taskTimeoutAction}.`,
                failed: false,
              });
              job.reload();
            }}
          />
          <h3>Change the dependencies</h3>
          <DependencyForm
            key={`${(j.dependencies ?? []).join(',')} ${j.onDependencyFailure}`}
            job={j}
            onSaved={(saved) => {
              setNotice({
                text: `Saved: waits for ${saved.dependencies?.length ? saved.dependencies.map((d) => `#${d}`).join(', ') : 'no job'}; if one fails: ${saved.onDependencyFailure}.`,
                failed: false,
              });
              job.reload();
            }}
          />
          <RelatedJobs
            jobId={j.id}
            relation="dependencyOf"
            title="Depends on"
            version={`${j.lastModified} ${j.state}`}
          />
          <RelatedJobs
            jobId={j.id}
            relation="dependsOn"
            title="Needed by"
            version={`${j.lastModified} ${j.state}`}
          />
          <h3>Outputs</h3>
          <ErrorMessage error={outputs.error} />
          <OutputsList outputs={outputs.data?.items ?? []} />
          <JobUsage jobId={j.id} since={j.createdAt} version={endedVersion} />
          <BadNodes jobId={j.id} version={endedVersion} onNotice={setNotice} />
        </section>
        {/* A parent job has no tasks of its own: its steps' are in the steps' card. */}
        {!(j.steps && taskList.length === 0) && (
          <section className="card tasks-card">
            <h2>
              Tasks <span className="muted">({taskList.length.toLocaleString()})</span>
            </h2>
            <div className="legend">
              {counts.map((c) => (
                <span key={c.s}>
                  <i style={{ background: c.colour }} /> {c.s.toLowerCase()} {c.n}
                </span>
              ))}
            </div>
            <ErrorMessage error={tasks.error} onRetry={tasks.reload} />
            <TaskGrid
              tasks={taskList}
              selected={selectedTask?.id}
              onSelect={(t) => select({ task: String(t.id) })}
            />
            {selectedTask && (
              <TaskPanel task={selectedTask} nodeName={nodeName} onChanged={tasks.reload} />
            )}
            {executionId !== undefined ? (
              <LogView executionId={executionId} />
            ) : (
              <p className="muted">Pick a task or an execution to see its log.</p>
            )}
          </section>
        )}
      </div>
      <section className="card">
        <h2>Executions</h2>
        <ErrorMessage error={executions.error} onRetry={executions.reload} />
        <ExecutionsTable
          executions={[...(executions.data?.items ?? [])].reverse()}
          taskIndex={(taskId) => byId.get(taskId)?.index}
          nodeName={nodeName}
          selected={executionId}
          onSelect={(e) => select({ task: String(e.taskId), exe: String(e.id) })}
        />
        {executions.data && executions.data.total > EXECUTIONS_PER_PAGE && (
          <Pager
            total={executions.data.total}
            offset={executions.data.offset}
            limit={EXECUTIONS_PER_PAGE}
            onPage={setExecOffset}
          />
        )}
      </section>
      <JobSessions jobId={j.id} version={endedVersion} />
      <section className="card">
        <h2>History</h2>
        <ErrorMessage error={history.error} onRetry={history.reload} />
        <JobHistory entries={history.data?.items ?? []} />
      </section>
    </div>
  );
}
