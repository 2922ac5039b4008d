import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import { findRevisionById } from '../../store/job-types.js';
import { allOutputsOfJobs } from '../../store/named-outputs.js';
import type { OutputRow } from '../../store/outputs.js';
import type { UfdlJobViewRow } from '../../store/ufdl-job-list.js';

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

/** Renders jobs, reading their outputs and job-type revisions in one query each. */
export async function renderJobs(ctx: EngineContext, rows: readonly UfdlJobViewRow[]) {
  const outputs = new Map<number, OutputRow[]>();
  for (const o of await allOutputsOfJobs(
    ctx.db,
    rows.map((r) => r.pk),
  )) {
    outputs.set(o.job_id, [...(outputs.get(o.job_id) ?? []), o]);
  }
  const definitions = new Map<number, JobTypeDefinition | undefined>();
  for (const id of new Set(rows.map((r) => r.job_type_rev_id))) {
    const revision = await findRevisionById(ctx.db, id);
    definitions.set(
      id,
      revision ? (JSON.parse(revision.definition_json) as JobTypeDefinition) : undefined,
    );
  }
  return rows.map((row) => {
    const dialect = ufdlDialectOf(row);
    const definition = definitions.get(row.job_type_rev_id);
    const typed = (
      json: string,
      types: Record<string, string> | undefined,
      fields: JobTypeDefinition['inputs'] | undefined,
    ) => {
      let values = JSON.parse(json) as Record<string, unknown>;
      // A parent's values are its children's, shown under UFDL's `child:name` keys.
      if (definition?.children) values = childKeyed(values);
      return Object.fromEntries(
        Object.entries(values).map(([name, value]) => {
          const fieldType = fields?.find((f) => f.name === name)?.type;
          const type =
            types?.[name] ?? (fieldType ? UFDL_TYPE_OF_FIELD[fieldType] : undefined) ?? 'JSON';
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
      input_values: typed(row.input_json, dialect.inputTypes, definition?.inputs),
      parameter_values: typed(row.parameters_json, dialect.parameterTypes, definition?.parameters),
      node: row.node,
      outputs: (outputs.get(row.pk) ?? []).map((o) => ({ pk: o.id, name: o.name, type: o.type })),
      description: row.description,
      is_cancelled: row.is_cancelled === 1,
      creator: row.creator,
      creation_time: ufdlTime(row.creation_time),
      deletion_time: ufdlTime(row.deletion_time),
    };
  });
}

export type UfdlJobJson = Awaited<ReturnType<typeof renderJobs>>[number];
