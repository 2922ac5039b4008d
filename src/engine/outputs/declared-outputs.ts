import { matchesGlob } from '../../domain/glob.js';
import { requiredFileOutputs, type JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { Executor } from '../../store/database.js';
import { jobsWhoseRevisionJudgesOutputs, revisionDocumentsOfJob } from '../../store/job-types.js';
import { listOutputsOfExecution } from '../../store/outputs.js';
import type { ExecutionRow } from '../../store/schema.js';
import type { EngineContext } from '../context.js';
import { readOnce } from '../dispatch/read-once.js';
import type { OutputFailure } from '../job-types/job-definition-formats.js';

/*
 * Output rules (docs/scheduling.md#output-rules): a job type's declared file outputs (an
 * output with a `pattern`, unless `required: false`) must each be uploaded, non-empty, by
 * a task that finishes well; else the task fails with the DATA error `output-missing`, which
 * is retried as a bad frame. Seed jobs keep their manifest's own rules (formats/seed).
 */

interface Declared {
  name: string;
  pattern: string;
}

/** How a job's finished tasks have their outputs judged. */
export interface OutputRules {
  /** A Seed job: its manifest's rules (formats/seed) judge each finish. */
  manifest: boolean;
  /** The declared file outputs of any other job; none for a Seed job. */
  declared: Declared[];
}

/**
 * Per engine, since a job's revision never changes; one read per job (the batched finish
 * path asked for the manifest and the definition separately, three reads per job before).
 */
const cache = new WeakMap<EngineContext, Map<number, OutputRules>>();

export async function outputRulesOf(
  ctx: EngineContext,
  db: Executor,
  jobId: number,
): Promise<OutputRules> {
  let byJob = cache.get(ctx);
  if (!byJob) cache.set(ctx, (byJob = new Map()));
  return (await readOnce(byJob, jobId, async () => {
    const revision = await revisionDocumentsOfJob(db, jobId);
    if (!revision) return { manifest: false, declared: [] };
    if (revision.manifest_json !== null) return { manifest: true, declared: [] };
    const definition = JSON.parse(revision.definition_json) as JobTypeDefinition;
    return { manifest: false, declared: requiredFileOutputs(definition) };
  }))!;
}

const judging = new WeakMap<EngineContext, Map<number, boolean>>();

/**
 * Of `jobIds`, those whose finished tasks have their outputs judged (a Seed manifest, or
 * declared outputs): the jobs seen before from a cache (at most 1,000, as readOnce keeps),
 * the others in one read. The batched finish path asked outputRulesOf of each job, which
 * with jobs of one task was a read for every task (bench/dispatch.ts --tasks-per-job 1).
 */
export async function jobsJudgingOutputs(
  ctx: EngineContext,
  db: Executor,
  jobIds: readonly number[],
): Promise<Set<number>> {
  let known = judging.get(ctx);
  if (!known) judging.set(ctx, (known = new Map()));
  const unknown = jobIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const judged = await jobsWhoseRevisionJudgesOutputs(db, unknown);
    if (known.size + unknown.length > 1000) known.clear();
    for (const id of unknown) known.set(id, judged.has(id));
  }
  return new Set(jobIds.filter((id) => known.get(id)));
}

/** The output rule's verdict on a finished execution: undefined when every output is there. */
export async function checkDeclaredOutputs(
  ctx: EngineContext,
  tx: Executor,
  execution: ExecutionRow,
): Promise<OutputFailure | undefined> {
  const { declared } = await outputRulesOf(ctx, tx, execution.job_id);
  if (declared.length === 0) return undefined;
  const uploaded = await listOutputsOfExecution(tx, execution.id);
  for (const d of declared) {
    const matched = uploaded.filter((o) => matchesGlob(o.name, d.pattern));
    if (matched.length === 0) {
      return {
        errorName: 'output-missing',
        message: `output ${d.name} is missing: no uploaded file matches '${d.pattern}'`,
      };
    }
    if (matched.every((o) => o.size === 0)) {
      return {
        errorName: 'output-missing',
        message: `output ${d.name} is empty: ${matched
          .slice(0, 5)
          .map((o) => o.name)
          .join(', ')} ${matched.length === 1 ? 'has' : 'have'} no bytes`,
      };
    }
  }
  return undefined;
}
