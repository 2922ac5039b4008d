/**
 * What the engine announces: one event per state change, after its transaction commits.
 * Events carry ids and states, never whole rows, so a NOTIFY payload stays small.
 */
export type DroverEvent =
  /** `queued`: how many of its tasks are QUEUED (so that as many idle nodes wake, not all). */
  | { type: 'job.created'; jobId: number; state: string; queued?: number }
  | { type: 'job.state'; jobId: number; from: string; to: string }
  | { type: 'job.updated'; jobId: number; fields: string[] }
  | { type: 'job.deleted'; jobId: number; purged: boolean }
  | { type: 'job.undeleted'; jobId: number }
  /**
   * `count` tasks moved together from one state to another (a bulk action moves many);
   * `taskIds` lists them unless there are too many for one notification.
   */
  | {
      type: 'task.state';
      jobId: number;
      taskIds: number[];
      count: number;
      from: string;
      to: string;
    }
  | {
      type: 'task.progress';
      jobId: number;
      taskId: number;
      progress: number;
      /** What the node attached to its report (UFDL forwards it to the job's watchers). */
      details?: Record<string, unknown>;
      /** What the command says it is doing, when the report carried it. */
      status?: string;
    }
  | {
      type: 'execution.state';
      jobId: number;
      taskId: number;
      executionId: number;
      nodeId: number;
      from: string | null;
      to: string;
    }
  | { type: 'log.appended'; jobId: number; executionId: number; lines: number }
  | { type: 'node.state'; nodeId: number; state: string; enabled: boolean }
  | { type: 'job-type.changed'; jobTypeId: number }
  /** A limit was made, changed or deleted: jobs naming it may run now, or no longer. */
  | { type: 'limit.changed'; name: string }
  /** A pool's mode or shares were set or forgotten: a burst limit may have room now. */
  | { type: 'pool.changed'; name: string }
  /**
   * `count` queued retries bound to node `nodeId` by a retry rule (node SAME) are open to any
   * node: that node was disabled, went offline, or was moved out of their jobs' reach.
   */
  | { type: 'retries.unbound'; nodeId: number; count: number }
  /** A request that changed (or tried to change) a job was written to the audit trail. */
  | { type: 'audit.recorded'; jobId: number; auditId: number }
  /** An event wrote `count` notifications to the outbox: deliverers look now. */
  | { type: 'notification.queued'; jobId: number | null; count: number };

export type EventListener = (event: DroverEvent & { at: number }) => void;
