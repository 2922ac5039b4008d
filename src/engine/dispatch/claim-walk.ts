import type { Tx } from '../../store/database.js';
import { findJobType, findRevisionById } from '../../store/job-types.js';
import type {
  ExecutionRow,
  JobRow,
  JobTypeRevisionRow,
  JobTypeRow,
  TaskRow,
} from '../../store/schema.js';
import { readOnce } from './read-once.js';

/*
 * What a claim is: its bounds, what it asks for and what it answers, shared by the
 * dispatcher's two ways of writing claims (one by one on SQLite, dispatcher.ts; in one call
 * per group on PostgreSQL, claim-group.ts).
 */

/** How stale a node's recorded heartbeat may get before an acquire refreshes it. */
export const HEARTBEAT_WRITE_MS = 5_000;

/** Jobs a node may pass over in one claim (machine limit, tasks locked by others). */
export const MAX_SKIPPED_JOBS = 20;

/** Jobs read per look at the queue; most claims are served by the first. */
export const JOBS_PER_LOOK = 4;

/**
 * A full page holding a job of a weighted pool is joined by the first job of each share
 * holder among this many jobs after it (store/claim-looks.ts fairHeads): fair share reaches
 * a user or project whose jobs all lie beyond the page, this far back in the queue.
 */
export const FAIR_WINDOW = 32;

/** A claim waiting for the group's transaction. */
export interface ClaimCall {
  nodeId: number;
  options: ClaimOptions;
  look: Look;
}

/** The most tasks one claim may take. */
export const MAX_CLAIM = 100;

/** Everything a node needs to run one task, made from the claim's own rows. */
export interface Acquired {
  execution: ExecutionRow;
  task: TaskRow;
  job: JobRow;
  type: JobTypeIdentity;
  revision: JobTypeRevisionRow;
  /** Milliseconds the task waited in the queue before this dispatch. */
  queuedMs: number;
}

/** What a work order tells of its job type; a type's name and version never change. */
export type JobTypeIdentity = Pick<JobTypeRow, 'id' | 'name' | 'version'>;

/** What one look at the queue saw besides what it took. */
export interface Look {
  /** It passed over a job whose queued tasks were all locked by other claims. */
  contended: boolean;
}

export interface ClaimOptions {
  /** Up to this many tasks (at most the node's free slots). */
  max?: number;
  /** The executions start RUNNING: the node runs them at once and sends no start. */
  start?: boolean;
  /**
   * Jobs the node holds sessions of (at most MAX_PREFERRED_JOBS): their queued tasks, and
   * those of their children, go ahead of other jobs of the same priority
   * (store/claim-preferences.ts). Empty or absent: the ordinary claim, statement for statement.
   */
  prefer?: readonly number[];
}

/** The most jobs a claim may prefer (a worker names the jobs of its idle sessions). */
export const MAX_PREFERRED_JOBS = 32;

/**
 * Job-type revisions never change once written, nor do a type's name and version, so each
 * is read once per engine: two reads fewer per claim, each a round trip on PostgreSQL.
 */
export class JobTypeRows {
  readonly #revisions = new Map<number, JobTypeRevisionRow>();
  readonly #types = new Map<number, JobTypeIdentity>();

  type(tx: Tx, id: number): Promise<JobTypeIdentity | undefined> {
    return readOnce(this.#types, id, async () => {
      const row = await findJobType(tx, id);
      return row && { id: row.id, name: row.name, version: row.version };
    });
  }

  revision(tx: Tx, id: number): Promise<JobTypeRevisionRow | undefined> {
    return readOnce(this.#revisions, id, () => findRevisionById(tx, id));
  }
}
