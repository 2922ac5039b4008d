import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import type { DroverEvent, Job, Task } from '../api/types';
import { useLoad, useThrottle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { ErrorMessage } from './ErrorMessage';
import { StepGraph, type Step } from './StepGraph';
import { TaskGrid } from './TaskGrid';

/** More steps than a template may have (OpenJD allows 100): the graph shows the first ones. */
const MAX_STEPS = 200;

/**
 * A step's dependencies are in its own job's representation only (not in the list's), so
 * each step is read once, its dependencies kept in `known`: they are fixed at submission,
 * while the list, read again on every change, brings the states and counts.
 */
async function loadSteps(
  parentId: number,
  known: Map<number, number[]>,
): Promise<{ steps: Step[]; total: number }> {
  const page = await api.jobs({ parent: parentId, sort: 'id', limit: MAX_STEPS, offset: 0 });
  const steps = await Promise.all(
    page.items.map(async (job) => {
      let dependsOn = known.get(job.id);
      if (!dependsOn) {
        dependsOn = (await api.job(job.id)).dependencies ?? [];
        known.set(job.id, dependsOn);
      }
      return { job, dependsOn };
    }),
  );
  return { steps, total: page.total };
}

async function stepTasks(jobId: number): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api.tasks(jobId, offset);
    tasks.push(...page.items);
    if (page.items.length === 0 || tasks.length >= page.total) return tasks;
  }
}

/**
 * A multi-step job's steps (its child jobs) as a graph with each step's progress, and the
 * selected step's tasks as a grid; a task opens on its step's page, as any job's task does.
 */
export function JobSteps({
  parentId,
  version,
  onStepEvent,
  onSteps,
}: {
  parentId: number;
  version: string;
  /**
   * Told when a step changes: the parent's own counts are its steps' added up (the
   * server's), and the parent's event stream does not carry its steps' events.
   */
  onStepEvent: () => void;
  /** Told the steps each time they are read (the Details card lists their progress). */
  onSteps?: (steps: Job[]) => void;
}) {
  const known = useRef(new Map<number, number[]>());
  const steps = useLoad(() => loadSteps(parentId, known.current), [parentId, version]);
  const list = useMemo(() => steps.data?.steps ?? [], [steps.data]);
  const report = useRef(onStepEvent);
  report.current = onStepEvent;
  const tell = useRef(onSteps);
  tell.current = onSteps;
  useEffect(() => tell.current?.(list.map((s) => s.job)), [list]);
  const reloadSteps = useThrottle(steps.reload, 1000);
  const reload = useCallback(() => {
    reloadSteps();
    report.current();
  }, [reloadSteps]);

  if (steps.error && !steps.data) {
    return <ErrorMessage error={steps.error} onRetry={steps.reload} />;
  }
  // Most jobs have no steps: they open no event stream of their own for them.
  if (list.length === 0) return null;
  return <StepsCard steps={list} total={steps.data!.total} onStepEvent={reload} />;
}

function StepsCard({
  steps,
  total,
  onStepEvent,
}: {
  steps: Step[];
  total: number;
  onStepEvent: () => void;
}) {
  const [chosen, setChosen] = useState<number>();
  // The step shown: the one clicked, else the first running one, else the first.
  const selected =
    steps.find((s) => s.job.id === chosen) ??
    steps.find((s) => s.job.state === 'RUNNING') ??
    steps[0]!;
  const selectedId = selected.job.id;
  const tasks = useLoad(
    async () => ({ stepId: selectedId, tasks: await stepTasks(selectedId) }),
    [selectedId],
  );
  // Until the chosen step's tasks are in, the grid is empty rather than the last step's.
  const shown = tasks.data?.stepId === selectedId ? tasks.data.tasks : [];

  const ids = useMemo(() => new Set(steps.map((s) => s.job.id)), [steps]);
  const reloadTasks = useThrottle(tasks.reload, 1000);
  // Steps are jobs of their own: their events name them, not the parent.
  useEvents(['job', 'task'], (event: DroverEvent) => {
    if (!('jobId' in event) || !ids.has(event.jobId)) return;
    onStepEvent();
    if (event.jobId === selectedId && event.type === 'task.state') reloadTasks();
  });

  const name = selected.job.childName ?? selected.job.name;
  return (
    <section className="card" data-testid="job-steps">
      <h2>
        Steps <span className="muted">({total.toLocaleString()})</span>
      </h2>
      <StepGraph steps={steps} selected={selectedId} onSelect={(s) => setChosen(s.job.id)} />
      {total > steps.length && <p className="muted">The first {steps.length} steps are shown.</p>}
      <div className="step-tasks" data-step={name}>
        <h3>
          Tasks of {name}{' '}
          <span className="muted">
            ({selected.job.tasks.completed}/{selected.job.tasks.total} done)
          </span>
        </h3>
        <ErrorMessage error={tasks.error} onRetry={tasks.reload} />
        <TaskGrid
          tasks={shown}
          selected={undefined}
          onSelect={(t) =>
            navigate(`/jobs/${selectedId}`, new URLSearchParams({ task: String(t.id) }))
          }
        />
      </div>
    </section>
  );
}
