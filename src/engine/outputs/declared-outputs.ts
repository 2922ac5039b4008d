import { matchesGlob } from '../../domain/glob.js';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { Executor } from '../../store/database.js';
import { findRevisionById } from '../../store/job-types.js';
import { findJob } from '../../store/jobs.js';
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

/** The job's declared file outputs, per engine: a job's revision never changes. */
const cache = new WeakMap<EngineContext, Map<number, Declared[]>>();

export async function declaredOutputs(
  ctx: EngineContext,
  db: Executor,
  jobId: number,
): Promise<Declared[]> {
  let byJob = cache.get(ctx);
  if (!byJob) cache.set(ctx, (byJob = new Map()));
  return (await readOnce(byJob, jobId, async () => {
    const job = await findJob(db, jobId);
    const revision = job ? await findRevisionById(db, job.job_type_rev_id) : undefined;
    if (!revision || revision.manifest_json !== null) return [];
    const definition = JSON.parse(revision.definition_json) as JobTypeDefinition;
    return (definition.outputs ?? [])
      .filter((o) => o.pattern !== undefined && o.required !== false)
      .map((o) => ({ name: o.name, pattern: o.pattern! }));
  }))!;
}

/** The output rule's verdict on a finished execution: undefined when every output is there. */
export async function checkDeclaredOutputs(
  ctx: EngineContext,
  tx: Executor,
  execution: ExecutionRow,
): Promise<OutputFailure | undefined> {
  const declared = await declaredOutputs(ctx, tx, execution.job_id);
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
