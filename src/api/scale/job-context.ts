import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import type { ScaleJobDocument } from '../../formats/seed/seed-jobs.js';
import { seedDocument, type SeedJobTypeDocument } from '../../formats/seed/seed-manifests.js';
import {
  findBatches,
  findTriggerEvents,
  type BatchRow,
  type TriggerEventRow,
} from '../../store/events-and-batches.js';
import { blockedJobIds } from '../../store/failed-dependencies.js';
import { inputFileNamesOfJobs } from '../../store/files.js';
import { sourcesOfJobs, type JobSources } from '../../store/job-sources.js';
import { findErrorsByNames } from '../../store/job-type-errors.js';
import { findJobs } from '../../store/jobs.js';
import { activeNodes } from '../../store/nodes.js';
import {
  jobTypesByIds,
  latestExecutionsOfJobs,
  latestRevisions,
  nodesByIds,
  revisionsByIds,
} from '../../store/rows-by-ids.js';
import type {
  ErrorRow,
  ExecutionRow,
  JobRow,
  JobTypeRevisionRow,
  JobTypeRow,
  NodeRow,
} from '../../store/schema.js';

/** Everything the Scale serializers read about a page of jobs, loaded in a few queries. */
export interface JobContext {
  types: Map<number, JobTypeRow>;
  revisions: Map<number, JobTypeRevisionRow>;
  /** Unmet resources per job type id: names no online node has enough of. */
  unmet: Map<number, string | null>;
  events: Map<number, TriggerEventRow>;
  batches: Map<number, BatchRow>;
  latest: Map<number, ExecutionRow>;
  nodes: Map<number, NodeRow>;
  errors: ErrorRow[];
  inputFiles: Map<number, Record<string, string[]>>;
  sources: Map<number, JobSources>;
  blocked: Set<number>;
  /** The multi-step jobs the page's steps belong to, shown as their recipes, by id. */
  recipes: Map<number, JobRow>;
}

export async function loadJobTypeContext(ctx: EngineContext, types: JobTypeRow[]) {
  const [latest, nodes] = await Promise.all([latestRevisions(ctx.db, types), activeNodes(ctx.db)]);
  const unmet = new Map<number, string | null>();
  for (const type of types) {
    const revision = latest.get(type.id);
    const definition = revision
      ? (JSON.parse(revision.definition_json) as JobTypeDefinition)
      : undefined;
    const wanted = definition?.resources ?? { cpus: 0, mem: 0, disk: 0, gpus: 0 };
    const missing = (Object.entries(wanted) as [keyof typeof wanted, number][])
      .filter(([name, amount]) => amount > 0 && !nodes.some((n) => n[name] >= amount))
      .map(([name]) => name);
    unmet.set(type.id, missing.length ? missing.join(',') : null);
  }
  return { latest, unmet };
}

export async function loadJobContext(ctx: EngineContext, jobs: JobRow[]): Promise<JobContext> {
  const ids = jobs.map((j) => j.id);
  const parents = await findJobs(ctx.db, [
    ...new Set(jobs.flatMap((j) => (j.parent_id === null ? [] : [j.parent_id]))),
  ]);
  const [types, revisions, events, batches, latest, inputFiles, sources, blocked] =
    await Promise.all([
      jobTypesByIds(
        ctx.db,
        [...jobs, ...parents].map((j) => j.job_type_id),
      ),
      revisionsByIds(
        ctx.db,
        [...jobs, ...parents].map((j) => j.job_type_rev_id),
      ),
      findTriggerEvents(
        ctx.db,
        jobs.flatMap((j) => (j.event_id === null ? [] : [j.event_id])),
      ),
      findBatches(
        ctx.db,
        jobs.flatMap((j) => (j.batch_id === null ? [] : [j.batch_id])),
      ),
      latestExecutionsOfJobs(ctx.db, ids),
      inputFileNamesOfJobs(ctx.db, ids),
      sourcesOfJobs(ctx.db, ids),
      blockedJobIds(
        ctx.db,
        jobs.filter((j) => j.state === 'PENDING').map((j) => j.id),
      ),
    ]);
  const errorNames = new Set<string>();
  for (const j of jobs) if (j.error_name) errorNames.add(j.error_name);
  for (const e of latest.values()) if (e.error_name) errorNames.add(e.error_name);
  const [nodes, errors, typeContext] = await Promise.all([
    nodesByIds(
      ctx.db,
      [...latest.values()].map((e) => e.node_id),
    ),
    findErrorsByNames(ctx.db, [...errorNames]),
    loadJobTypeContext(ctx, [...types.values()]),
  ]);
  return {
    types,
    revisions,
    unmet: typeContext.unmet,
    events,
    batches,
    latest,
    nodes,
    errors,
    inputFiles,
    sources,
    blocked,
    recipes: new Map(parents.map((p) => [p.id, p])),
  };
}

/** The error of that name for a job type: its own first, then the built-in one. */
export function errorFor(
  errors: readonly ErrorRow[],
  name: string | null,
  jobTypeName: string | undefined,
): ErrorRow | undefined {
  if (name === null) return undefined;
  const named = errors.filter((e) => e.name === name);
  return (
    named.find((e) => e.job_type_name !== null && e.job_type_name === jobTypeName) ??
    named.find((e) => e.job_type_name === null)
  );
}

/**
 * The Scale document of a job queued through Scale (it has the Data JSON, `input`), read in
 * whatever shape a writer stored it. A job from another face that Scale requeued holds only
 * `triesBefore` there (bulk-job-commands.ts), and is not a Scale job: undefined, where
 * reading its missing `input` was a TypeError that failed every list it appeared in.
 */
export function scaleDocumentOf(job: JobRow): ScaleJobDocument | undefined {
  const scale = scaleDialectOf(job);
  const input = scale?.input as Partial<ScaleJobDocument['input']> | null | undefined;
  if (!scale || typeof input !== 'object' || input === null) return undefined;
  return {
    ...(scale as unknown as ScaleJobDocument),
    input: { files: input.files ?? {}, json: input.json ?? {} },
    triesBefore: scaleTriesBefore(job),
  };
}

/** Executions before the last Scale requeue, for any job (0 when never requeued by Scale). */
export function scaleTriesBefore(job: JobRow): number {
  const tries = scaleDialectOf(job)?.triesBefore;
  return typeof tries === 'number' && Number.isInteger(tries) ? tries : 0;
}

function scaleDialectOf(job: JobRow): Record<string, unknown> | undefined {
  const scale = (JSON.parse(job.dialect_json) as { scale?: unknown }).scale;
  return scale !== null && typeof scale === 'object'
    ? (scale as Record<string, unknown>)
    : undefined;
}

export function seedDocumentOf(
  revision: JobTypeRevisionRow | undefined,
): SeedJobTypeDocument | undefined {
  return revision ? seedDocument(revision.manifest_json) : undefined;
}

/** Adds the nodes and errors of more executions (a job's older ones) to a context. */
export async function withExecutions(
  ctx: EngineContext,
  c: JobContext,
  rows: readonly ExecutionRow[],
): Promise<JobContext> {
  const [nodes, errors] = await Promise.all([
    nodesByIds(
      ctx.db,
      rows.map((r) => r.node_id),
    ),
    findErrorsByNames(
      ctx.db,
      rows.flatMap((r) => (r.error_name ? [r.error_name] : [])),
    ),
  ]);
  return { ...c, nodes: new Map([...c.nodes, ...nodes]), errors: [...c.errors, ...errors] };
}
