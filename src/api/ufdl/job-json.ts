import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import {
  allOutputsOfJobs,
  findOutputsByIds,
  outputsOfCompletedChildren,
} from '../../store/named-outputs.js';
import type { OutputRow } from '../../store/outputs.js';
import { revisionsByIds } from '../../store/rows-by-ids.js';
import type { UfdlJobViewRow } from './job-view.js';

/* The UFDL JSON of jobs and job outputs (reference §2, §8). */

/** DRF renders times in ISO 8601 with microseconds; Drover's are UTC milliseconds. */
export function ufdlTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** UFDL versions are integers; Drover's are text ("1", "2.0"), shown as numbers when they are. */
export const ufdlVersion = (version: string): number | string =>
  /^\d+$/.test(version) ? Number(version) : version;

/** A Drover field type as a UFDL type string. */
export const UFDL_TYPE_OF_FIELD: Record<string, string> = {
  string: 'str',
  integer: 'int',
  number: 'float',
  boolean: 'bool',
  object: 'JSON',
  array: 'JSON',
  file: 'file',
};

/** What this face keeps in a job's dialect JSON. */
export interface UfdlJobDialect {
  inputTypes?: Record<string, string>;
  parameterTypes?: Record<string, string>;
  notificationOverride?: NotificationOverride;
}

export interface NotificationOverride {
  actions: Record<string, Record<string, unknown>[]>;
  keep_default?: boolean;
}

export function ufdlDialectOf(row: Pick<UfdlJobViewRow, 'dialect_json'>): UfdlJobDialect {
  try {
    const parsed = JSON.parse(row.dialect_json) as { ufdl?: UfdlJobDialect };
    return parsed.ufdl ?? {};
  } catch {
    return {};
  }
}

export function outputInfo(row: OutputRow) {
  return {
    pk: row.id,
    job: row.job_id,
    name: row.name,
    type: row.type,
    creator: null,
    creation_time: ufdlTime(row.created_at),
    deletion_time: ufdlTime(row.deleted_at),
  };
}

function childKeyed(values: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [child, own] of Object.entries(values)) {
    if (own === null || typeof own !== 'object' || Array.isArray(own)) continue;
    for (const [name, value] of Object.entries(own)) flat[`${child}:${name}`] = value;
  }
  return flat;
}

/** The output ids a fed input holds (src/engine/jobs/child-inputs.ts): one, or a list. */
function outputIdsIn(value: unknown): number[] {
  const all = Array.isArray(value) ? value : [value];
  return all.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** Renders jobs, reading their outputs and job-type revisions in one query each. */
export async function renderJobs(ctx: EngineContext, rows: readonly UfdlJobViewRow[]) {
  const outputs = new Map<number, { pk: number; name: string; type: string }[]>();
  const add = (jobId: number, o: { pk: number; name: string; type: string }) =>
    outputs.set(jobId, [...(outputs.get(jobId) ?? []), o]);
  // UFDL copies a finished child's outputs to its meta-job as `child:name`. The reads are
  // independent and go out together, with the revisions in one query, not one each: on
  // PostgreSQL every statement is a round trip, and the list benchmark's page of 50 jobs
  // made 8 of them in turn (7 revisions, one at a time); now 2, at once.
  const parents = rows.filter((r) => r.task_count === 0).map((r) => r.pk);
  const revisionIds = rows.flatMap((r) =>
    r.parent_rev_id === null ? [r.job_type_rev_id] : [r.job_type_rev_id, r.parent_rev_id],
  );
  const [own, children, revisions] = await Promise.all([
    allOutputsOfJobs(
      ctx.db,
      rows.map((r) => r.pk),
    ),
    outputsOfCompletedChildren(ctx.db, parents),
    revisionsByIds(ctx.db, revisionIds),
  ]);
  for (const o of own) add(o.job_id, { pk: o.id, name: o.name, type: o.type });
  for (const o of children) {
    add(o.parent_id, { pk: o.id, name: `${o.child_name}:${o.name}`, type: o.type });
  }
  const definitions = new Map<number, JobTypeDefinition | undefined>();
  for (const id of new Set(revisionIds)) {
    const revision = revisions.get(id);
    definitions.set(
      id,
      revision ? (JSON.parse(revision.definition_json) as JobTypeDefinition) : undefined,
    );
  }
  // A child's inputs that a sibling's output filled show as UFDL's job_output<T>.
  const fedInputs = (row: UfdlJobViewRow): string[] => {
    if (row.child_name === null || row.parent_rev_id === null) return [];
    const entry = definitions
      .get(row.parent_rev_id)
      ?.children?.find((c) => c.name === row.child_name);
    return Object.keys(entry?.inputsFrom ?? {});
  };
  const fedIds = rows.flatMap((row) => {
    const values = JSON.parse(row.input_json) as Record<string, unknown>;
    return fedInputs(row).flatMap((name) => outputIdsIn(values[name]));
  });
  const fedTypes = new Map(
    (await findOutputsByIds(ctx.db, [...new Set(fedIds)])).map((o) => [o.id, o.type]),
  );
  return rows.map((row) => {
    const dialect = ufdlDialectOf(row);
    const definition = definitions.get(row.job_type_rev_id);
    const fed = new Set(fedInputs(row));
    const typed = (
      json: string,
      types: Record<string, string> | undefined,
      fields: JobTypeDefinition['inputs'] | undefined,
      fedHere: ReadonlySet<string>,
    ) => {
      let values = JSON.parse(json) as Record<string, unknown>;
      // A parent's values are its children's, shown under UFDL's `child:name` keys.
      if (definition?.children) values = childKeyed(values);
      return Object.fromEntries(
        Object.entries(values).map(([name, value]) => {
          const outputType = fedHere.has(name)
            ? fedTypes.get(outputIdsIn(value)[0] ?? 0)
            : undefined;
          const fieldType = fields?.find((f) => f.name === name)?.type;
          const type =
            types?.[name] ??
            (outputType !== undefined ? `job_output<${outputType}>` : undefined) ??
            (fieldType ? UFDL_TYPE_OF_FIELD[fieldType] : undefined) ??
            'JSON';
          return [name, { value, type }];
        }),
      );
    };
    return {
      pk: row.pk,
      template: {
        pk: row.template,
        name: row.template_name,
        version: ufdlVersion(row.template_version),
      },
      parent: row.parent === null ? null : Number(row.parent),
      start_time: ufdlTime(row.start_time),
      end_time: ufdlTime(row.end_time),
      error_reason: row.error_reason,
      input_values: typed(row.input_json, dialect.inputTypes, definition?.inputs, fed),
      parameter_values: typed(
        row.parameters_json,
        dialect.parameterTypes,
        definition?.parameters,
        new Set(),
      ),
      node: row.node,
      outputs: outputs.get(row.pk) ?? [],
      description: row.description,
      is_cancelled: row.is_cancelled === 1,
      creator: row.creator,
      creation_time: ufdlTime(row.creation_time),
      deletion_time: ufdlTime(row.deletion_time),
    };
  });
}

export type UfdlJobJson = Awaited<ReturnType<typeof renderJobs>>[number];
