import { BUILTIN_JOB_TYPES } from '../../domain/builtin-job-types.js';
import { DroverError, notFound } from '../../domain/errors.js';
import {
  checkName,
  normaliseDefinition,
  requiredFileOutputs,
  type DefinitionInput,
  type JobTypeDefinition,
} from '../../domain/job-type-definition.js';
import {
  deleteJobType,
  findJobType,
  findJobTypeByName,
  findRevision,
  insertJobType,
  insertRevision,
  jobTypeHasJobs,
  updateJobType,
} from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { inTransaction, type EngineContext } from '../context.js';

export interface JobTypeSpec {
  name: string;
  version?: string;
  title?: string;
  description?: string;
  category?: string;
  isSystem?: boolean;
  definition: DefinitionInput;
  /** A dialect's original document (a Scale Seed manifest), kept with the revision. */
  manifest?: unknown;
}

export async function createJobType(ctx: EngineContext, spec: JobTypeSpec): Promise<JobTypeRow> {
  checkName('name', spec.name);
  const version = spec.version ?? '1';
  const definition = normaliseDefinition(spec.definition);
  return inTransaction(ctx, async (tx, emit) => {
    if (await findJobTypeByName(tx, spec.name, version)) {
      throw new DroverError(
        'CONFLICT',
        `job type ${spec.name} version ${version} exists; add a revision or choose another version`,
      );
    }
    const now = ctx.clock();
    const id = await insertJobType(tx, {
      name: spec.name,
      version,
      title: spec.title ?? spec.name,
      description: spec.description ?? '',
      category: spec.category ?? '',
      is_active: 1,
      is_system: spec.isSystem ? 1 : 0,
      is_paused: 0,
      latest_revision: 1,
      created_at: now,
      last_modified: now,
    });
    const manifest = manifestJson(spec.manifest);
    await insertRevision(
      tx,
      id,
      1,
      JSON.stringify(definition),
      manifest,
      now,
      judges(manifest, definition),
    );
    emit({ type: 'job-type.changed', jobTypeId: id });
    return (await findJobType(tx, id))!;
  });
}

/** A new revision; jobs already submitted keep the revision they were pinned to. */
export async function reviseJobType(
  ctx: EngineContext,
  id: number,
  spec: Partial<Omit<JobTypeSpec, 'name' | 'version'>>,
): Promise<JobTypeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const type = await findJobType(tx, id);
    if (!type) throw notFound('job type', id);
    const current = await findRevision(tx, id, type.latest_revision);
    const base = JSON.parse(current!.definition_json) as JobTypeDefinition;
    const definition = normaliseDefinition({ ...base, ...spec.definition });
    const now = ctx.clock();
    const next = type.latest_revision + 1;
    const manifest = manifestJson(spec.manifest);
    await insertRevision(
      tx,
      id,
      next,
      JSON.stringify(definition),
      manifest,
      now,
      judges(manifest, definition),
    );
    await updateJobType(tx, id, {
      latest_revision: next,
      last_modified: now,
      ...(spec.title !== undefined ? { title: spec.title } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.category !== undefined ? { category: spec.category } : {}),
    });
    emit({ type: 'job-type.changed', jobTypeId: id });
    return (await findJobType(tx, id))!;
  });
}

/**
 * Deactivates (deprecates, soft-deletes) or reactivates a job type. An inactive type keeps
 * its jobs and revisions; Scale shows it deprecated and UFDL deleted, and neither takes new
 * jobs of it. `last_modified` is the time of the change, the deletion time UFDL shows.
 */
export async function setJobTypeActive(
  ctx: EngineContext,
  id: number,
  active: boolean,
): Promise<JobTypeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const type = await findJobType(tx, id);
    if (!type) throw notFound('job type', id);
    if ((type.is_active === 1) === active) return type;
    await updateJobType(tx, id, { is_active: active ? 1 : 0, last_modified: ctx.clock() });
    emit({ type: 'job-type.changed', jobTypeId: id });
    return (await findJobType(tx, id))!;
  });
}

/**
 * Removes a job type for good. Jobs pin a revision of their type, so a type that still
 * has jobs in the database (deleted ones too) stays; so do the built-in types, which every
 * start would add again.
 */
export async function purgeJobType(ctx: EngineContext, id: number): Promise<JobTypeRow> {
  return inTransaction(ctx, async (tx, emit) => {
    const type = await findJobType(tx, id);
    if (!type) throw notFound('job type', id);
    if (type.is_system === 1) {
      throw new DroverError('CONFLICT', `job type ${type.name} ${type.version} is built in`);
    }
    if (await jobTypeHasJobs(tx, id)) {
      throw new DroverError(
        'CONFLICT',
        `job type ${type.name} ${type.version} has jobs; delete and purge them first`,
      );
    }
    await deleteJobType(tx, id);
    emit({ type: 'job-type.changed', jobTypeId: id });
    return type;
  });
}

/** Adds the built-in job types, and those the formats bring, that a database lacks. */
export async function ensureBuiltinJobTypes(ctx: EngineContext): Promise<void> {
  for (const builtin of [...BUILTIN_JOB_TYPES, ...ctx.formats.flatMap((f) => f.jobTypes ?? [])]) {
    if (await findJobTypeByName(ctx.db, builtin.name, builtin.version)) continue;
    try {
      await createJobType(ctx, { ...builtin, isSystem: true });
    } catch (error) {
      // Another replica created it at the same moment.
      if (!(error instanceof DroverError && error.code === 'CONFLICT')) throw error;
    }
  }
}

function manifestJson(manifest: unknown): string | null {
  return manifest === undefined ? null : JSON.stringify(manifest);
}

/** Whether each finish of the revision's jobs has its outputs judged, one by one. */
function judges(manifest: string | null, definition: JobTypeDefinition): boolean {
  return manifest !== null || requiredFileOutputs(definition).length > 0;
}
