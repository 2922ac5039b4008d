import { parseFrameList } from '../../domain/frame-list.js';
import type { JobState } from '../../domain/job-state.js';
import type { EngineContext } from '../../engine/context.js';
import {
  executionSummaryOfJob,
  type ExecutionStateSummary,
} from '../../store/execution-statistics.js';
import { tasksInStates } from '../../store/tasks.js';
import { toDeadlineId } from './ids.js';
import { deadlineDate, renderJob, type JobView } from './job-json.js';
import { JOB_STATUS_TEXT } from './state-mapping.js';

/*
 * Job Statistics and Job Details are computed from the job's executions: render time is
 * what completed executions took (the wall time their node measured, else ended − started,
 * as /api/v1/usage counts it), frame time is that over the frames of completed tasks. CPU
 * time, CPU usage (the mean share of its machine an execution used) and peak RAM are the
 * nodes' measurements of every ended execution, failed ones included: they used the farm. Deadline writes durations as "d:hh:mm:ss"; callers split them on ':'.
 * The numeric *Seconds keys are Drover's, for scripts that want the exact figure.
 */

export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(total / 86_400);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d}:${pad(Math.floor(total / 3600) % 24)}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
}

interface Figures {
  renderMs: number;
  averageTaskMs: number;
  averageFrameMs: number;
  minMs: number;
  maxMs: number;
  elapsedMs: number;
  completedExecutions: number;
  failedExecutions: number;
  frames: number;
  cpuSeconds: number;
  /** Percent, one decimal; 0 when no execution was measured. */
  cpuPercent: number;
  peakRamBytes: number;
}

async function figures(ctx: EngineContext, view: JobView): Promise<Figures> {
  const summary = await executionSummaryOfJob(ctx.db, view.job.id);
  const done = summary.find((s) => s.state === 'COMPLETED');
  const failed = summary.find((s) => s.state === 'FAILED');
  const completedTasks = await tasksInStates(ctx.db, view.job.id, ['COMPLETED']);
  const frames = completedTasks.reduce(
    (n, t) => n + (t.frames === '' ? 1 : parseFrameList(t.frames).length),
    0,
  );
  const firstStart = Math.min(...summary.map((s) => s.firstStart ?? Infinity));
  const lastEnd = Math.max(...summary.map((s) => s.lastEnd ?? -Infinity));
  const running = view.job.state === 'RUNNING';
  const elapsedMs = Number.isFinite(firstStart)
    ? (running || !Number.isFinite(lastEnd) ? ctx.clock() : lastEnd) - firstStart
    : 0;
  const renderMs = done?.totalMs ?? 0;
  const count = done?.count ?? 0;
  return {
    renderMs,
    averageTaskMs: count ? renderMs / count : 0,
    averageFrameMs: frames ? renderMs / frames : 0,
    minMs: done?.minMs ?? 0,
    maxMs: done?.maxMs ?? 0,
    elapsedMs: Math.max(0, elapsedMs),
    completedExecutions: count,
    failedExecutions: failed?.count ?? 0,
    frames,
    ...usageOf(summary),
  };
}

/** CPU and RAM over the ended executions; a live one has not reported its usage yet. */
function usageOf(summary: ExecutionStateSummary[]) {
  const ended = summary.filter((s) => s.state === 'COMPLETED' || s.state === 'FAILED');
  const measured = ended.filter((s) => s.cpuPercent !== null);
  const weight = measured.reduce((n, s) => n + s.count, 0);
  const cpuPercent = weight
    ? measured.reduce((sum, s) => sum + s.cpuPercent! * s.count, 0) / weight
    : 0;
  return {
    cpuSeconds: ended.reduce((n, s) => n + s.cpuSeconds, 0),
    cpuPercent: Math.round(Math.min(100, cpuPercent) * 10) / 10,
    peakRamBytes: Math.max(0, ...ended.map((s) => s.peakMemoryBytes ?? 0)),
  };
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export async function jobStatistics(
  ctx: EngineContext,
  view: JobView,
): Promise<Record<string, unknown>> {
  const job = renderJob(view);
  const props = job.Props as Record<string, unknown>;
  const f = await figures(ctx, view);
  return {
    JobID: toDeadlineId(view.job.id),
    Name: view.job.name,
    User: view.job.user_name,
    Mach: job.Mach,
    Plug: job.Plug,
    Pri: props.Pri,
    Stat: job.Stat,
    Tasks: view.job.task_count,
    CompletedTaskCount: view.job.tasks_completed,
    QueuedTaskCount: view.job.tasks_queued,
    RenderingTaskCount: view.job.tasks_running,
    SuspendedTaskCount: view.job.tasks_suspended,
    FailedTaskCount: view.job.tasks_failed + view.job.tasks_canceled,
    PendingTaskCount: view.job.tasks_pending,
    CompletedFrames: f.frames,
    Errs: f.failedExecutions,
    DateSubmitted: job.Date,
    DateStarted: job.DateStart,
    DateCompleted: job.DateComp,
    AvgFrameRend: duration(f.averageFrameMs),
    AvgTaskRend: duration(f.averageTaskMs),
    MinTaskRend: duration(f.minMs),
    MaxTaskRend: duration(f.maxMs),
    RendTime: duration(f.renderMs),
    ElapsedTime: duration(f.elapsedMs),
    AvgFrameRendSeconds: seconds(f.averageFrameMs),
    AvgTaskRendSeconds: seconds(f.averageTaskMs),
    RendTimeSeconds: seconds(f.renderMs),
    ElapsedTimeSeconds: seconds(f.elapsedMs),
    // Drover's keys (Deadline's own for these are not known): from the nodes' measurements.
    TotalCpuTime: duration(f.cpuSeconds * 1000),
    TotalCpuTimeSeconds: Math.round(f.cpuSeconds * 1000) / 1000,
    AvgCpuUsage: f.cpuPercent,
    PeakRamUsage: f.peakRamBytes,
  };
}

export async function jobDetails(
  ctx: EngineContext,
  view: JobView,
): Promise<Record<string, Record<string, string>>> {
  const { job } = view;
  const rendered = renderJob(view);
  const props = rendered.Props as Record<string, unknown>;
  const f = await figures(ctx, view);
  return {
    Job: {
      'Job ID': toDeadlineId(job.id),
      Name: job.name,
      Comment: job.comment,
      Department: job.department,
      User: job.user_name,
      Status: JOB_STATUS_TEXT[job.state as JobState] ?? 'Unknown',
      Plugin: String(rendered.Plug),
      Priority: String(props.Pri),
      Pool: String(props.Pool),
      Group: String(props.Grp),
      Frames: job.frames,
      'Frames Per Task': String(job.chunk_size),
      'Machine Limit': String(job.machine_limit),
      'Submit Date': deadlineDate(job.created_at),
      'Started Date': deadlineDate(job.started_at),
      'Completed Date': String(rendered.DateComp),
    },
    Tasks: {
      Total: String(job.task_count),
      Completed: String(job.tasks_completed),
      Rendering: String(job.tasks_running),
      Queued: String(job.tasks_queued),
      Suspended: String(job.tasks_suspended),
      Pending: String(job.tasks_pending),
      Failed: String(job.tasks_failed + job.tasks_canceled),
    },
    Statistics: {
      'Total Task Render Time': duration(f.renderMs),
      'Average Task Render Time': duration(f.averageTaskMs),
      'Average Frame Render Time': duration(f.averageFrameMs),
      'Minimum Task Render Time': duration(f.minMs),
      'Peak Task Render Time': duration(f.maxMs),
      'Elapsed Time': duration(f.elapsedMs),
      'Completed Frames': String(f.frames),
      Errors: String(f.failedExecutions),
      'Total CPU Time': duration(f.cpuSeconds * 1000),
      'Average CPU Usage': `${f.cpuPercent} %`,
      'Peak RAM Usage': `${(f.peakRamBytes / 2 ** 20).toFixed(1)} MB`,
    },
  };
}
