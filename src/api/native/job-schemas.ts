import { Type } from '@sinclair/typebox';
import { JOB_BOUNDS, MAX_PROJECT } from '../../domain/job-bounds.js';
import { MAX_EVERY_DAYS, WEEKDAYS } from '../../domain/job-schedule.js';
import {
  MAX_JITTER,
  MAX_RETRY_DELAY_SECONDS,
  RETRY_DELAY_MODES,
} from '../../domain/retry-delay.js';
import {
  DEFAULT_SAME_NODE_TRIES,
  MAX_RETRY_RULES,
  MAX_RULE_EXIT_CODES,
  RETRY_NODES,
} from '../../domain/retry-rules.js';
import { JobState, Nullable, StringEnum, Time } from './schemas.js';

/* The schemas of a job as the native API shows and takes it: its settings, schedule and state. */

/** One retry rule (domain/retry-rules.ts checks the rest). */
export const RetryRule = Type.Object(
  {
    exitCodes: Type.Optional(
      Type.Array(Type.Integer(), { minItems: 1, maxItems: MAX_RULE_EXIT_CODES }),
    ),
    categories: Type.Optional(
      Type.Array(StringEnum(['SYSTEM', 'DATA', 'ALGORITHM']), { minItems: 1, maxItems: 3 }),
    ),
    retry: Type.Boolean(),
    node: Type.Optional(StringEnum(RETRY_NODES)),
    sameNodeTries: Type.Optional(
      Type.Integer({
        minimum: 2,
        maximum: JOB_BOUNDS.maxTries.maximum,
        description: `node SAME only: tries on the failing node (the failed one included) before retries go to any node; default ${DEFAULT_SAME_NODE_TRIES}`,
      }),
    ),
    maxTries: Type.Optional(Type.Integer(JOB_BOUNDS.maxTries)),
  },
  { additionalProperties: false },
);

export const RetryRules = Type.Array(RetryRule, {
  maxItems: MAX_RETRY_RULES,
  description:
    'By exit code and error category, whether a failed task is retried, where (node ANY: any node; SAME: only the node that failed it, while that node could take the job, for sameNodeTries tries; OTHER: any node but that one, unless no other could take the job), and how many tries such failures allow; the first rule that matches decides (docs/scheduling.md#retry-rules)',
});

/** A retry delay as a request gives it (domain/retry-delay.ts checks the rest). */
export const RetryDelayInput = Type.Object(
  {
    mode: StringEnum(RETRY_DELAY_MODES),
    seconds: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_RETRY_DELAY_SECONDS })),
    maxSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_RETRY_DELAY_SECONDS })),
    jitter: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_JITTER })),
  },
  {
    additionalProperties: false,
    description:
      'How long a failed task waits before its next try: NONE (default), FIXED (seconds) or EXPONENTIAL (seconds, doubled per try, up to maxSeconds); jitter: ± that fraction',
  },
);

/** A job's project, at submit and in a PATCH. */
export const Project = Type.String({
  maxLength: MAX_PROJECT,
  description:
    'The project (OpenCue show) the job belongs to; a weighted pool shared by project gives its shares to projects (docs/scheduling.md). "" for none',
});

/** The job's department and project, at submit and in a PATCH. */
export const JobLabels = {
  department: Type.Optional(Type.String()),
  project: Type.Optional(Project),
};

export const MachineLimitRelease = Type.Number({
  minimum: -1,
  maximum: 100,
  description:
    "A node's task stops counting against the machine limit once it reports this progress (percent); -1: never",
});

export const Resources = Type.Object({
  cpus: Type.Number({ minimum: 0 }),
  mem: Type.Number({ minimum: 0, description: 'MiB' }),
  disk: Type.Number({ minimum: 0, description: 'MiB' }),
  gpus: Type.Number({ minimum: 0 }),
});

/**
 * Host requirements in OpenJD's own shape (2023-09 hostRequirements): what a node must have
 * to take the job's tasks (docs/openjd.md#host-requirements). A job shows them normalized:
 * names and attribute values in lower case, anyOf and allOf of one name as two entries.
 */
export const HostRequirements = Type.Object(
  {
    amounts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'amount.worker.NAME, as amount.worker.gpu.memory' }),
            min: Type.Optional(Type.Number({ minimum: 0 })),
            max: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
    attributes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'attr.NAME, as attr.worker.os.family' }),
            anyOf: Type.Optional(Type.Array(Type.String(), { maxItems: 50 })),
            allOf: Type.Optional(Type.Array(Type.String(), { maxItems: 50 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'What a node must have to take its tasks, in OpenJD shape: attributes it reported (a missing one never matches), amounts within min and max (an amount it did not report counts as 0). docs/openjd.md#host-requirements',
  },
);

export const TaskCounts = Type.Object({
  total: Type.Integer(),
  pending: Type.Integer(),
  queued: Type.Integer(),
  running: Type.Integer(),
  suspended: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  canceled: Type.Integer(),
});

export const TaskTimeoutAction = Type.Union(
  [Type.Literal('FAIL'), Type.Literal('COMPLETE'), Type.Literal('NOTIFY')],
  {
    description:
      'On a task past taskTimeout: FAIL (kill it, fail the try), COMPLETE (kill it, complete the task) or NOTIFY (flag the execution timed out, let it run)',
  },
);

export const OnDependencyFailure = Type.Union(
  [Type.Literal('CANCEL'), Type.Literal('WAIT'), Type.Literal('RUN')],
  {
    description:
      'What the job does when a job it depends on FAILED or was CANCELED: CANCEL it too (the default, and in turn the jobs waiting on it), WAIT until that job is retried and completes, or RUN anyway (an ended dependency counts as met)',
  },
);

const TimeOfDay = (what: string) =>
  Type.String({ description: `${what}: HH:MM or HH:MM:SS in the server's local time zone` });

const DayWindow = Type.Object(
  {
    start: Type.Optional(TimeOfDay('The job starts (is released or resumed) at')),
    stop: Type.Optional(TimeOfDay('The job is suspended at')),
  },
  { additionalProperties: false },
);

export const Schedule = Type.Object(
  {
    kind: Type.Union([Type.Literal('once'), Type.Literal('daily'), Type.Literal('custom')], {
      description:
        'once: start (and stop) at two date-times; daily: from startDate, every everyDays days at startTime (until stopTime); custom: a start and/or stop on each weekday named in days',
    }),
    start: Type.Optional(
      Type.String({ format: 'date-time', description: 'once: when the job starts' }),
    ),
    stop: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'once: when the job is suspended if it is still running; after start',
      }),
    ),
    startDate: Type.Optional(
      Type.String({ description: 'daily: the first day, YYYY-MM-DD (server local date)' }),
    ),
    startTime: Type.Optional(TimeOfDay('daily: the job starts at')),
    stopTime: Type.Optional(
      TimeOfDay('daily: the job is suspended at (an earlier time than startTime: the next day)'),
    ),
    everyDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_EVERY_DAYS,
        description: 'daily: days from one start to the next; default 1',
      }),
    ),
    days: Type.Optional(
      Type.Object(Object.fromEntries(WEEKDAYS.map((d) => [d, Type.Optional(DayWindow)])), {
        additionalProperties: false,
        description:
          'custom: each weekday (mon … sun) with a start and/or stop time. A stop ends the window the last start opened, the same day or later: {"fri": {"start": "19:00"}, "mon": {"stop": "07:00"}} is every weekend',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'When the job may run. At a start the job is released (PENDING on SCHEDULE) or resumed (if its schedule suspended it); at a stop a QUEUED or RUNNING job is suspended, running tasks stopped, until the next start. A job suspended or pended by hand is left alone. Ended jobs follow no schedule.',
  },
);

export const JobError = Nullable(
  Type.Object({ name: Type.String(), message: Nullable(Type.String()) }),
);

export const Job = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    type: Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      version: Type.String(),
      revisionId: Type.Integer(),
    }),
    user: Type.String(),
    comment: Type.String(),
    department: Type.String(),
    project: Type.String({ description: "The job's project; '' for none" }),
    state: JobState,
    pendReason: Nullable(Type.String()),
    deleted: Type.Boolean(),
    protected: Type.Boolean({
      description: 'Only its owner or an admin may delete, purge or archive it (any face)',
    }),
    priority: Type.Integer(),
    pool: Type.String(),
    group: Type.String(),
    frames: Type.String(),
    chunkSize: Type.Integer(),
    tasks: Type.Object(TaskCounts.properties, {
      description:
        "The job's tasks by state; a parent job's (a multi-step job: see steps) are its steps' tasks added up",
    }),
    steps: Type.Optional(
      Type.Object(TaskCounts.properties, {
        description:
          'A parent job only (a multi-step OpenJD job, a composite type): its steps (child jobs) by state',
      }),
    ),
    progress: Type.Number({ description: 'Percent of tasks completed (a parent: of its steps)' }),
    machineLimit: Type.Integer(),
    machineLimitRelease: MachineLimitRelease,
    badNodeFailures: Type.Integer({
      description: 'Failures on one node after which the node stops taking the job; 0: never',
    }),
    retryDelay: Type.Object(
      {
        mode: StringEnum(RETRY_DELAY_MODES),
        seconds: Type.Number(),
        maxSeconds: Type.Number(),
        jitter: Type.Number(),
      },
      { description: 'How long a failed task waits before its next try (docs/scheduling.md)' },
    ),
    retryRules: Type.Union([RetryRules, Type.Null()], {
      description:
        "The job's own retry rules, which replace its type's; null: its type's (docs/scheduling.md#retry-rules)",
    }),
    blockedNodes: Type.Integer({
      description: 'Nodes blocked from the job (GET /api/v1/jobs/:id/node-failures)',
    }),
    nodeList: Type.Object({
      mode: Type.Union([Type.Literal('NONE'), Type.Literal('ALLOW'), Type.Literal('DENY')]),
      /** Only in a single job's representation. */
      nodes: Type.Optional(Type.Array(Type.String())),
    }),
    dependencies: Type.Optional(Type.Array(Type.Integer(), { description: 'Single job only' })),
    limits: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Single job only: the limits its running tasks take (docs/scheduling.md)',
      }),
    ),
    parentId: Type.Optional(
      Type.Integer({
        description:
          "The parent job of a child job (a composite type's child, an OpenJD step); absent for other jobs",
      }),
    ),
    childName: Type.Optional(
      Nullable(Type.String({ description: "The child's name in its parent (the step's name)" })),
    ),
    resources: Resources,
    hostRequirements: Nullable(HostRequirements),
    taskTimeout: Type.Integer(),
    taskTimeoutAction: TaskTimeoutAction,
    jobTimeout: Type.Integer(),
    maxTries: Type.Integer(),
    onDependencyFailure: OnDependencyFailure,
    frameDependent: Type.Boolean({
      description: 'Its dependencies hold each task only until the same frames are done',
    }),
    frameOffsetStart: Type.Integer({
      description: 'With frameDependent: frame N waits for N+frameOffsetStart..N+frameOffsetEnd',
    }),
    frameOffsetEnd: Type.Integer(),
    targetTaskSeconds: Type.Integer({
      description: 'Adaptive chunking toward this many seconds per task; 0: fixed chunks',
    }),
    inputs: Type.Record(Type.String(), Type.Unknown()),
    parameters: Type.Record(Type.String(), Type.Unknown()),
    error: JobError,
    batchId: Nullable(Type.Integer()),
    scheduledAt: Time,
    schedule: Nullable(Schedule),
    nextScheduleAt: Nullable(
      Type.String({ format: 'date-time', description: "The schedule's next start or stop" }),
    ),
    suspendReason: Nullable(
      Type.String({
        description: 'SCHEDULE when its schedule suspended it (the next start resumes it)',
      }),
    ),
    createdAt: Time,
    queuedAt: Time,
    startedAt: Time,
    endedAt: Time,
    lastStatusChange: Time,
    lastModified: Time,
    deletedAt: Time,
    archivedAt: Time,
  },
  { $id: 'Job' },
);
