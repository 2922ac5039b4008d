import { Type } from '@sinclair/typebox';
import { Nullable, TaskState, Time } from './schemas.js';

/* The schemas of tasks and their executions as the native API shows them. */

export const Task = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.Integer(),
    index: Type.Integer(),
    frames: Type.String(),
    frameStart: Type.Integer(),
    frameEnd: Type.Integer(),
    parameters: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          "The task's own parameter values (an OpenJD task's Task.Param.*); absent for tasks that are frames",
      }),
    ),
    state: TaskState,
    tries: Type.Integer(),
    progress: Type.Number(),
    nodeId: Nullable(Type.Integer()),
    lastExecutionId: Nullable(Type.Integer()),
    statusMessage: Type.Optional(Type.String({ description: "Its last execution's, if any" })),
    startedAt: Time,
    endedAt: Time,
    lastStatusChange: Time,
  },
  { $id: 'Task' },
);

/** What the node measured at the command's end; null where it measured nothing. */
export const ExecutionUsage = Type.Object({
  cpuSeconds: Nullable(Type.Number({ description: 'User + system CPU time of the whole task' })),
  wallSeconds: Nullable(Type.Number()),
  peakMemoryBytes: Nullable(Type.Integer({ description: 'Peak resident memory' })),
  gpuSeconds: Nullable(Type.Number()),
});

export const Execution = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.Integer(),
    taskId: Type.Integer(),
    nodeId: Type.Integer(),
    exeNum: Type.Integer(),
    state: Type.String(),
    progress: Type.Number(),
    statusMessage: Nullable(Type.String({ description: 'What the command says it does' })),
    exitCode: Nullable(Type.Integer()),
    error: Nullable(Type.Object({ name: Type.String(), message: Nullable(Type.String()) })),
    timedOut: Type.Boolean(),
    logLines: Type.Integer(),
    leaseExpiresAt: Time,
    createdAt: Time,
    startedAt: Time,
    endedAt: Time,
    usage: ExecutionUsage,
    gpus: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0 }), {
        description:
          "The node's GPU indexes given to this execution (a job asking gpus); the worker shows the task only these",
      }),
    ),
  },
  { $id: 'Execution' },
);
