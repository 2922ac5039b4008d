import type { FastifyRequest } from 'fastify';
import type { InterfaceField, JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import { findJobType, findRevision } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { NOT_FOUND } from './errors.js';
import { UFDL_TYPE_OF_FIELD, ufdlTime, ufdlVersion } from './job-json.js';

/*
 * A Drover job type as UFDL's workable template JSON. Every Drover job type is a workable
 * template (pk = job type id); a deactivated type is a deleted template, deleted when it
 * was last changed. Drover fields have no default value: an optional one shows the default
 * null (it may be left out), a required one none (it must be given).
 */

export const TEMPLATE = '/job-templates/:pk(^\\d+)';

export const ufdlTypeOf = (field: InterfaceField): string =>
  UFDL_TYPE_OF_FIELD[field.type] ?? 'JSON';

function fieldsJson(fields: JobTypeDefinition['parameters']) {
  return Object.fromEntries(
    fields.map((f) => [
      f.name,
      {
        types: [ufdlTypeOf(f)],
        help: f.description ?? '',
        ...(f.required ? {} : { default: null, default_type: ufdlTypeOf(f) }),
      },
    ]),
  );
}

export async function definitionOf(
  ctx: EngineContext,
  row: JobTypeRow,
): Promise<JobTypeDefinition> {
  const revision = await findRevision(ctx.db, row.id, row.latest_revision);
  return JSON.parse(revision!.definition_json) as JobTypeDefinition;
}

export async function templateJson(ctx: EngineContext, row: JobTypeRow) {
  const definition = await definitionOf(ctx, row);
  return {
    pk: row.id,
    name: row.name,
    version: ufdlVersion(row.version),
    description: row.description,
    scope: 'public',
    domain: null,
    licence: null,
    creator: null,
    creation_time: ufdlTime(row.created_at),
    deletion_time: row.is_active === 1 ? null : ufdlTime(row.last_modified),
    type: 'Job',
    executor_class: '',
    required_packages: '',
    parameters: fieldsJson(definition.parameters),
    inputs: fieldsJson(definition.inputs),
  };
}

/** The template named by the route's pk, deleted ones included (as UFDL's get_object). */
export async function loadTemplate(
  ctx: EngineContext,
  request: FastifyRequest,
): Promise<JobTypeRow> {
  const row = await findJobType(ctx.db, Number((request.params as { pk: string }).pk));
  if (!row) throw NOT_FOUND();
  return row;
}
