import type { ErrorCategory } from '../../domain/error-categories.js';
import { invalid } from '../../domain/errors.js';
import { usageColumns, type ExecutionUsage } from '../../domain/execution-usage.js';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import { retryDelayMs, storedRetryDelay } from '../../domain/retry-delay.js';
import { DEFAULT_SAME_NODE_TRIES, matchingRule, type RetryRule } from '../../domain/retry-rules.js';
import type { Tx } from '../../store/database.js';
import { findError } from '../../store/error-catalog.js';
import { findJobTypeErrorByExitCode } from '../../store/job-type-errors.js';
import { findJobType, findRevisionById } from '../../store/job-types.js';
import { countNodeFailure } from '../../store/node-blocks.js';
import { failuresOnNode, markPinnedRetries } from '../../store/retry-pins.js';
import type { ErrorRow, ExecutionRow, JobRow, TasksTable } from '../../store/schema.js';
import { findTask } from '../../store/tasks.js';
import type { Emit, EngineContext } from '../context.js';
import { lockedJob } from '../jobs/job-actions.js';
import { enqueueTaskFailureNotifications } from '../notifications/notification-hook.js';
import { endExecution, moveTasks } from '../state-changes.js';
import { settleJob } from '../tasks/task-actions.js';

/*
 * How an execution that did not succeed ends, and what becomes of its task: the error it is
 * recorded with (named by the node, mapped from its exit code by the job type, or the
 * category's default), then a retry while tries remain and the job's retry rules (its own,
 * else its type's; or, when none matches, the error) allow it, on the node a rule names,
 * else the task fails and so does its job. The node's reports (execution-reports.ts), the reaper and
 * timeouts all end failures here, so here each failure counts against its node, which
 * past the job's bad-node count stops taking the job (store/node-blocks.ts).
 */

export interface Failure {
  /**
   * A registered error name; by default the job type's error for a non-zero `exitCode`,
   * else the category's generic error.
   */
  errorName?: string;
  category?: ErrorCategory;
  message?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  /** What the node measured of the command before it failed. */
  usage?: ExecutionUsage;
}

const DEFAULT_ERROR: Record<ErrorCategory, string> = {
  SYSTEM: 'unknown',
  ALGORITHM: 'algorithm-unknown',
  DATA: 'algorithm-unknown',
};

/**
 * Ends a live execution without success and decides its task's fate: back to the queue
 * while tries remain (and the error allows a retry), else FAILED, which fails the job.
 */
export async function failExecution(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  execution: ExecutionRow,
  event: 'fail' | 'lose',
  failure: Failure,
): Promise<void> {
  const job = await lockedJob(ctx, tx, execution.job_id);
  const jobType = await findJobType(tx, job.job_type_id);
  const error =
    (await errorOfExitCode(tx, failure, jobType?.name)) ??
    (await namedError(tx, failure, jobType?.name));
  const message = failure.message ?? error.title;
  await endExecution(ctx, tx, emit, execution, event, {
    exit_code: failure.exitCode ?? null,
    error_name: error.name,
    error_message: message,
    // A NOTIFY execution flagged while it ran stays flagged whatever ends it.
    timed_out: failure.timedOut || execution.timed_out === 1 ? 1 : 0,
    ...(failure.usage ? usageColumns(failure.usage) : {}),
  });
  // The job's retry rules, else its type's (domain/retry-rules.ts): the first that matches decides.
  const rule = matchingRule(await retryRulesOf(tx, job), {
    exitCode: failure.exitCode ?? null,
    category: error.category,
  });
  const threshold = job.bad_node_failures;
  if (
    threshold > 0 &&
    (await countNodeFailure(tx, job.id, execution.node_id, threshold, ctx.clock()))
  ) {
    // The node no longer takes the job: waiting reasons and lists show it.
    emit({ type: 'job.updated', jobId: job.id, fields: ['blockedNodes'] });
  }
  const task = await findTask(tx, execution.task_id);
  if (!task || task.state !== 'RUNNING') return;
  const tries = task.tries + 1;
  const retryable = rule ? rule.retry : job.retry_any_error === 1 || error.should_be_retried === 1;
  const maxTries = Math.min(job.max_tries, rule?.maxTries ?? job.max_tries);
  const delay = retryDelayMs(storedRetryDelay(job.retry_delay_json), tries);
  const retried = tries < maxTries && retryable;
  const pin = retried ? await retryPin(tx, job, rule, execution) : NO_PIN;
  if (pin.retry_node_id !== null && job.pinned_retries === 0) await markPinnedRetries(tx, job.id);
  // A job that never bound a retry has no binding to clear: its failures write what they did.
  const pinPatch = job.pinned_retries === 0 && pin.retry_node_id === null ? {} : pin;
  if (retried && delay > 0) {
    // It waits PENDING until the reaper queues it again (tasks/retry-release.ts).
    await moveTasks(ctx, tx, emit, job.id, [task], 'pend', {
      tries,
      retry_at: ctx.clock() + delay,
      ...pinPatch,
    });
  } else {
    await moveTasks(ctx, tx, emit, job.id, [task], retried ? 'retry' : 'fail', {
      tries,
      ...pinPatch,
    });
  }
  await enqueueTaskFailureNotifications(
    tx,
    emit,
    job,
    task,
    {
      failures: tries,
      state: retried ? (delay > 0 ? 'PENDING' : 'QUEUED') : 'FAILED',
      errorName: error.name,
      errorMessage: message,
    },
    ctx.clock(),
  );
  await settleJob(ctx, tx, emit, job, { error_name: error.name, error_message: message });
}

type RetryPin = Pick<TasksTable, 'retry_node_id' | 'retry_node_rule'>;
const NO_PIN: RetryPin = { retry_node_id: null, retry_node_rule: null };

async function retryRulesOf(tx: Tx, job: JobRow): Promise<RetryRule[] | undefined> {
  if (job.retry_rules_json !== null) return JSON.parse(job.retry_rules_json) as RetryRule[];
  const revision = await findRevisionById(tx, job.job_type_rev_id);
  return revision
    ? (JSON.parse(revision.definition_json) as JobTypeDefinition).retryRules
    : undefined;
}

/**
 * Where the retry may run (docs/scheduling.md#retry-rules): SAME binds it to the failing
 * node until the task has had the rule's sameNodeTries there; OTHER keeps it from that node.
 * The claim lets either go elsewhere when the node it names could not take it.
 */
async function retryPin(
  tx: Tx,
  job: JobRow,
  rule: RetryRule | undefined,
  execution: ExecutionRow,
): Promise<RetryPin> {
  if (rule?.node === 'OTHER') return { retry_node_id: execution.node_id, retry_node_rule: 'OTHER' };
  if (rule?.node !== 'SAME') return NO_PIN;
  const tries = rule.sameNodeTries ?? DEFAULT_SAME_NODE_TRIES;
  if ((await failuresOnNode(tx, execution.task_id, execution.node_id)) >= tries) return NO_PIN;
  return { retry_node_id: execution.node_id, retry_node_rule: 'SAME' };
}

async function namedError(
  tx: Tx,
  failure: Failure,
  jobTypeName: string | undefined,
): Promise<ErrorRow> {
  const errorName = failure.errorName ?? DEFAULT_ERROR[failure.category ?? 'ALGORITHM'];
  const error = await findError(tx, errorName, jobTypeName);
  if (!error) throw invalid(`unknown error name "${errorName}"`, { field: 'errorName' });
  return error;
}

/**
 * A job type may name its own errors by the command's exit code (a Seed manifest's
 * `errors[]`). They decide a failure the node reports with a non-zero exit code and no error
 * name, unless the node calls it a SYSTEM failure (then the command's code did not decide
 * it). An unmapped code falls back to the category's generic error, as before.
 */
async function errorOfExitCode(
  tx: Tx,
  failure: Failure,
  jobTypeName: string | undefined,
): Promise<ErrorRow | undefined> {
  const code = failure.exitCode;
  if (failure.errorName !== undefined || failure.category === 'SYSTEM') return undefined;
  if (jobTypeName === undefined || code === undefined || code === null || code === 0) {
    return undefined;
  }
  return findJobTypeErrorByExitCode(tx, jobTypeName, code);
}
