import type { EndedExecution } from '../../store/executions.js';
import type { JobRow } from '../../store/schema.js';
import { toDeadlineId } from './ids.js';
import { deadlineDate } from './job-json.js';
import { REPORT_TYPE, REPORT_TYPE_OF, REQUEUE_ERROR_NAMES } from './state-mapping.js';
import { taskFrames } from './task-json.js';
import { usageFields, wallSecondsOf } from './usage-figures.js';

/*
 * A job or task report of Deadline 10 (reference §4), one per ended execution. The field
 * order, the numeric `Type`, `TaskTime` as a number of seconds and `LogErr` empty on an
 * error report follow a real report (go-deadline-api's README, 10.1.15); its Go client
 * reads `TaskTime` as seconds and refuses a string there. An error report's `Title` is the
 * error as Deadline writes it, "Error: <message>". Usage figures Drover does not measure
 * are 0.
 */

export function reportTypeOf(execution: EndedExecution): number {
  if (
    execution.state === 'FAILED' &&
    execution.error_name !== null &&
    REQUEUE_ERROR_NAMES.includes(execution.error_name)
  ) {
    return REPORT_TYPE.REQUEUE;
  }
  return REPORT_TYPE_OF[execution.state as keyof typeof REPORT_TYPE_OF] ?? REPORT_TYPE.LOG;
}

/** The error of an error report, why a requeue happened, nothing for a log report. */
export function reportTitle(execution: EndedExecution): string {
  const type = reportTypeOf(execution);
  if (type === REPORT_TYPE.ERROR) {
    return `Error: ${execution.error_message ?? execution.error_name ?? 'the task failed'}`;
  }
  if (type === REPORT_TYPE.REQUEUE) {
    if (execution.error_message) return execution.error_message;
    return execution.state === 'RELEASED'
      ? 'the node gave the task back before starting it'
      : 'the node gave the task back';
  }
  return '';
}

/**
 * Whole seconds the execution ran: the wall time its node measured, as /api/v1/usage and
 * the job's render time count it, else start to end; 0 when it never started.
 */
export function taskSeconds(execution: EndedExecution): number {
  return Math.round(wallSecondsOf(execution) ?? 0);
}

export function renderReport(
  execution: EndedExecution,
  job: JobRow,
  plugin: string,
): Record<string, unknown> {
  const usage = usageFields(execution, { cpus: execution.node_cpus, mem: execution.node_mem });
  return {
    Job: toDeadlineId(job.id),
    Type: reportTypeOf(execution),
    Date: deadlineDate(execution.ended_at),
    Slave: execution.node_name,
    Task: execution.task_index,
    Title: reportTitle(execution),
    JobName: job.name,
    JobUser: job.user_name,
    Plugin: plugin,
    Frames: taskFrames(execution.task_frames),
    TaskStartTime: deadlineDate(execution.started_at),
    TaskTime: taskSeconds(execution),
    LogErr: '',
    // From the node's measurement (usage-figures.ts); Drover measures no averages of RAM,
    // no peak of CPU and no clock cycles.
    AverageCpu: usage.cpu,
    PeakCpu: 0,
    AverageRam: 0,
    RamAvgPer: 0,
    PeakRam: usage.ramPeak,
    RamPeakPer: usage.ramPeakPer,
    UsedClock: 0,
    TotalClock: 0,
    _id: toDeadlineId(execution.id),
  };
}
