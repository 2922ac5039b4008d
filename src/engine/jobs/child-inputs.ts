import type { ChildInputSource } from '../../domain/child-jobs.js';
import type { InterfaceField, JobTypeDefinition } from '../../domain/job-type-definition.js';
import { taskStateMachine } from '../../domain/task-state.js';
import type { Tx } from '../../store/database.js';
import { findRevisionById } from '../../store/job-types.js';
import { childrenOf, findJob, lockJob, updateJob } from '../../store/jobs.js';
import { listOutputsOfJob, type OutputRow } from '../../store/outputs.js';
import type { JobRow } from '../../store/schema.js';
import { tasksInStates } from '../../store/tasks.js';
import type { Emit, EngineContext } from '../context.js';
import { changeJobState, moveTasks } from '../state-changes.js';

/*
 * Outputs of a child job that become inputs of its later siblings (a composite type's
 * `inputsFrom`, src/domain/child-jobs.ts), as UFDL's meta templates hand a child's outputs to
 * the children that depend on it. It runs when a child completes, in that transaction and
 * before its dependents are released, so a sibling leaves PENDING with its inputs filled.
 *
 * The value is the output's id (`/api/v1/outputs/{id}/content`): a number for a numeric
 * input, a string for any other (UFDL writes the id as a string), a list of them, one per
 * output of that name, for an array or a multiple file input. A value given at submission
 * wins (UFDL's rule). A sibling that finds no such output, or whose input cannot hold an id,
 * fails before it runs, and its parent with it: without the input it could not run. Only
 * siblings that have not started are fed; a requeued child's next completion feeds them again.
 */

const UNSTARTED = ['PENDING', 'QUEUED', 'SUSPENDED'];

async function definitionOf(tx: Tx, revisionId: number): Promise<JobTypeDefinition | undefined> {
  const revision = await findRevisionById(tx, revisionId);
  return revision ? (JSON.parse(revision.definition_json) as JobTypeDefinition) : undefined;
}

function valueFor(field: InterfaceField, outputs: readonly OutputRow[]): unknown {
  const ids = outputs.map((o) => o.id);
  const last = ids[ids.length - 1]!;
  switch (field.type) {
    case 'integer':
    case 'number':
      return last;
    case 'string':
      return String(last);
    case 'file':
      return field.multiple ? ids.map(String) : String(last);
    case 'array':
      return ids.map(String);
    default:
      return undefined;
  }
}

/** Fills the inputs that later siblings take from `producer`'s outputs; `producer` just completed. */
export async function feedSiblings(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  producer: JobRow,
): Promise<void> {
  if (typeof producer.parent_id !== 'number' || typeof producer.child_name !== 'string') return;
  const parent = await findJob(tx, producer.parent_id);
  const family = parent && (await definitionOf(tx, parent.job_type_rev_id));
  const fromProducer = (entry: { inputsFrom?: Record<string, ChildInputSource> }) =>
    Object.entries(entry.inputsFrom ?? {}).filter(([, s]) => s.child === producer.child_name);
  const fed = (family?.children ?? []).filter((c) => fromProducer(c).length > 0);
  if (!parent || fed.length === 0) return;
  // What was given for each child at submission (the parent's input per child) wins.
  const given = JSON.parse(parent.input_json) as Record<string, Record<string, unknown>>;
  const outputs = await listOutputsOfJob(tx, producer.id);
  const siblings = await childrenOf(tx, parent.id);
  for (const entry of fed) {
    const found = siblings.find((s) => s.child_name === entry.name);
    if (!found || !UNSTARTED.includes(found.state)) continue;
    const sibling = await lockJob(tx, ctx.dialect, found.id);
    if (!sibling || !UNSTARTED.includes(sibling.state)) continue;
    const fields = (await definitionOf(tx, sibling.job_type_rev_id))?.inputs ?? [];
    const inputs = JSON.parse(sibling.input_json) as Record<string, unknown>;
    let failure: string | undefined;
    for (const [input, source] of fromProducer(entry)) {
      if (input in (given[entry.name] ?? {})) continue;
      const where = `output "${source.output}"${source.type ? ` of type ${source.type}` : ''} of job ${producer.id} (${producer.child_name})`;
      const field = fields.find((f) => f.name === input);
      const matching = outputs.filter(
        (o) => o.name === source.output && (source.type === undefined || o.type === source.type),
      );
      const value = field && matching.length > 0 ? valueFor(field, matching) : undefined;
      if (value !== undefined) {
        inputs[input] = value;
        continue;
      }
      failure = !field
        ? `input "${input}" to take ${where}: its job type has no such input`
        : matching.length === 0
          ? `input "${input}" takes ${where}, which the job did not produce`
          : `input "${input}" takes ${where}, but an input of type ${field.type} cannot hold an output id`;
      break;
    }
    if (failure !== undefined) {
      await failUnstarted(ctx, tx, emit, sibling, failure);
    } else {
      await updateJob(tx, sibling.id, {
        input_json: JSON.stringify(inputs),
        last_modified: ctx.clock(),
      });
      emit({ type: 'job.updated', jobId: sibling.id, fields: ['inputs'] });
    }
  }
}

async function failUnstarted(
  ctx: EngineContext,
  tx: Tx,
  emit: Emit,
  job: JobRow,
  message: string,
): Promise<void> {
  const tasks = await tasksInStates(tx, job.id, taskStateMachine.sources('mark-failed'));
  await moveTasks(ctx, tx, emit, job.id, tasks, 'mark-failed');
  await changeJobState(ctx, tx, emit, job, 'mark-failed', {
    error_name: 'missing-required-output',
    error_message: message,
  });
}
