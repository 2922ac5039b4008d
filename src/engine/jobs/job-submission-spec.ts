import type { DependencyFailurePolicy } from '../../domain/dependency-failure.js';
import type { HostRequirement } from '../../domain/host-capabilities.js';
import type { ScheduleInput } from '../../domain/job-schedule.js';
import type { Resources } from '../../domain/job-type-definition.js';
import type { TaskTimeoutAction } from '../../domain/task-timeout-action.js';

/* What a submission asks for: the spec every face turns its request into (job-submission.ts). */

export interface SubmitJobSpec {
  type: string;
  typeVersion?: string;
  name?: string;
  user: string;
  comment?: string;
  department?: string;
  /** The project (OpenCue's show); a weighted pool shared by project weighs it. */
  project?: string;
  priority?: number;
  pool?: string;
  group?: string;
  /** A frame list; none means one task without frames. */
  frames?: string | null;
  chunkSize?: number;
  inputs?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  /** Most nodes that may work on the job at once; 0 = no limit. */
  machineLimit?: number;
  /** Progress (percent) at which a node's task stops counting against the limit; -1: never. */
  machineLimitRelease?: number;
  allowList?: string[];
  denyList?: string[];
  /** Limits its running tasks take (docs/scheduling.md); names matched in lower case. */
  limits?: string[];
  /**
   * Keep limit names no limit has yet (the job waits until one is made), as Deadline's
   * LimitGroups do; otherwise an unknown name is refused.
   */
  acceptUnknownLimits?: boolean;
  resources?: Partial<Resources>;
  /**
   * Host requirements (OpenJD's attributes and amounts, normalized: domain/host-capabilities.ts)
   * a node must meet to take its tasks; none by default.
   */
  hostRequirement?: HostRequirement | null;
  taskTimeout?: number;
  /** What a task past taskTimeout does: FAIL (default), COMPLETE or NOTIFY. */
  taskTimeoutAction?: TaskTimeoutAction;
  jobTimeout?: number;
  maxTries?: number;
  /** Failures of the job on one node that block the node from it (default 3; 0: never). */
  badNodeFailures?: number;
  /** How long a failed task waits before its next try (domain/retry-delay.ts); none by default. */
  retryDelay?: unknown;
  /**
   * Retry rules (domain/retry-rules.ts) replacing the job type's: by exit code and error
   * category, whether, where and how often a failed task is retried. [] for none.
   */
  retryRules?: unknown;
  /** Retry any failure while tries remain (default), or only errors marked retryable. */
  retryAnyError?: boolean;
  dependencies?: number[];
  /**
   * Its dependencies hold each task only until the tasks covering the same frames complete
   * (Deadline's IsFrameDependent; frame-dependencies.ts), not the whole job.
   */
  frameDependent?: boolean;
  /**
   * With frame-by-frame dependencies, frame N waits for frames N+start..N+end of them
   * (Deadline's FrameDependencyOffsetStart/End); 0 and 0 by default.
   */
  frameOffsetStart?: number;
  frameOffsetEnd?: number;
  /**
   * Adaptive chunking (src/engine/tasks/adaptive-chunks.ts): the first tasks take
   * `chunkSize` frames, and the unclaimed ones are re-chunked toward this many seconds
   * each as tasks complete. 0 or absent: fixed chunks.
   */
  targetTaskSeconds?: number;
  /** With targetTaskSeconds: a chunk never spans a gap in the frames (OpenJD CONTIGUOUS). */
  contiguousChunks?: boolean;
  /** Of `dependencies`, the ones waited on frame by frame when not all are (a format's). */
  frameDependencies?: number[];
  /** What the job does when a dependency fails or is canceled; default CANCEL. */
  onDependencyFailure?: DependencyFailurePolicy;
  initialState?: 'QUEUED' | 'SUSPENDED' | 'PENDING';
  /** Held PENDING until this time (ms): a once schedule without a stop. */
  scheduledAt?: number;
  /** When the job may run (src/domain/job-schedule.ts); give this or scheduledAt. */
  schedule?: ScheduleInput;
  batchId?: number;
  eventId?: number;
  /** Only the owner or an admin may delete, purge or archive it (permissions.ts). */
  protected?: boolean;
  /** What a dialect keeps of the submission and shows back unchanged. */
  dialect?: Record<string, unknown>;
  /** For a composite type: a face's own comment and dialect JSON of each child, by name. */
  childSpecs?: Record<string, { comment?: string; dialect?: Record<string, unknown> }>;
  /**
   * Tasks given one by one, each with its own parameter values, instead of frames: the
   * points of a format's parameter space (src/formats/openjd/). One task per entry.
   */
  tasks?: { parameters: Record<string, string>; frames?: { start: number; end: number } }[];
  /**
   * Children made with the job, for a type that names none of its own (a format's
   * multi-step job): each a job of its own, running after the earlier siblings `after`
   * names, as a composite type's children do. The job itself then has no tasks.
   */
  children?: InlineChild[];
}

export interface InlineChild {
  name: string;
  after: string[];
  /** Of `after`, the siblings waited on frame by frame (frame-dependencies.ts). */
  afterByFrame?: string[];
  spec: Omit<SubmitJobSpec, 'user' | 'children' | 'dependencies'>;
}
