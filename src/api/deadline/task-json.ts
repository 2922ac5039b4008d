import type { TaskState } from '../../domain/task-state.js';
import type { TaskWithFacts } from '../../store/execution-statistics.js';
import { toDeadlineId, toDeadlineTaskId } from './ids.js';
import { deadlineDate, UNSET_DATE } from './job-json.js';
import { TASK_STAT_OF } from './state-mapping.js';
import { usageFields } from './usage-figures.js';

/** A task's frames as Deadline writes them: `start-end` runs, `0-0` for a job without frames. */
export const taskFrames = (frames: string): string => (frames === '' ? '0-0' : frames);

/**
 * A task as Deadline shows it (reference §4). Its usage is its latest execution's, as the
 * node measured it (usage-figures.ts); what Drover does not measure is 0.
 */
export function renderTask(task: TaskWithFacts): Record<string, unknown> {
  const usage = usageFields(
    task.last_execution_id === null
      ? null
      : {
          cpu_seconds: task.last_cpu_seconds,
          wall_seconds: task.last_wall_seconds,
          peak_memory_bytes: task.last_peak_memory_bytes,
          started_at: task.last_started,
          ended_at: task.last_ended,
        },
    { cpus: task.node_cpus, mem: task.node_mem },
  );
  const props: Record<string, unknown> = {};
  for (let i = 0; i < 10; i++) props[`Ex${i}`] = '';
  props.ExDic = {};
  const running = task.state === 'RUNNING';
  return {
    JobID: toDeadlineId(task.job_id),
    TaskID: task.task_index,
    Frames: taskFrames(task.frames),
    Slave: task.node_name ?? '',
    Stat: TASK_STAT_OF[task.state as TaskState] ?? 1,
    Prog: `${Math.round(task.state === 'COMPLETED' ? 100 : task.progress)} %`,
    // Deadline's render status is what the plugin last said (SetStatusMessage), as
    // OpenJD's openjd_status is.
    RndStat: task.last_status_message ?? (running ? 'Rendering' : ''),
    Errs: task.errors,
    Start: deadlineDate(task.first_start),
    StartRen: deadlineDate(task.last_started ?? (running ? task.started_at : null)),
    Comp: task.state === 'COMPLETED' ? deadlineDate(task.ended_at) : UNSET_DATE,
    WtgStrt: false,
    NormMult: 1.0,
    Size: 0,
    RamPeak: usage.ramPeak,
    RamPeakPer: usage.ramPeakPer,
    Cpu: usage.cpu,
    CpuPer: 0,
    RamAvg: 0,
    RamAvgPer: 0,
    SwapAvg: 0,
    SwapPeak: 0,
    UsedClock: 0,
    TotalClock: 0,
    Props: props,
    _id: toDeadlineTaskId(task.job_id, task.task_index),
    ExtraElements: null,
  };
}
