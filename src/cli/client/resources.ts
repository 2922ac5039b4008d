import type { Static } from '@sinclair/typebox';
import type { LogLine as LogLineSchema } from '../../api/native/executions.js';
import type { Limit as LimitSchema } from '../../api/native/limits.js';
import type { Output as OutputSchema } from '../../api/native/outputs.js';
import type {
  Execution as ExecutionSchema,
  Job as JobSchema,
  JobType as JobTypeSchema,
  Node as NodeSchema,
  Task as TaskSchema,
  TaskCounts as TaskCountsSchema,
} from '../../api/native/schemas.js';

/*
 * The shapes the command line reads from the native API: the very schemas the server
 * validates and documents with, so the two cannot drift apart.
 */

export type JobState =
  'PENDING' | 'QUEUED' | 'RUNNING' | 'SUSPENDED' | 'COMPLETED' | 'FAILED' | 'CANCELED';

export const FINAL_STATES: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type TaskCounts = Static<typeof TaskCountsSchema>;
export type Job = Static<typeof JobSchema>;
export type Task = Static<typeof TaskSchema>;
export type Execution = Static<typeof ExecutionSchema>;
export type Node = Static<typeof NodeSchema>;
export type JobType = Static<typeof JobTypeSchema>;
export type LogLine = Static<typeof LogLineSchema>;
export type Output = Static<typeof OutputSchema>;
export type Limit = Static<typeof LimitSchema>;

export interface LogPage {
  lines: LogLine[];
  next: number;
  live: boolean;
}

export interface WaitingReason {
  code: string;
  message: string;
}
