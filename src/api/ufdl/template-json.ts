import type { FastifyRequest } from 'fastify';
import type { InterfaceField, JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import { findJobType, findRevision } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { NOT_FOUND } from './errors.js';
import { UFDL_TYPE_OF_FIELD, ufdlTime, ufdlVersion } from './job-json.js';

/*
 * A Drover job type as UFDL's template JSON: a composite type (definition.children) is a
 * meta template, any other a workable one (pk = job type id); a deactivated type is a
 * deleted template, deleted when it was last changed. Drover fields have no default value:
 * an optional one shows the default null (it may be left out), a required one none (it
 * must be given).
 */

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
  // UFDL's serialiser has the same fields for every template, then a workable one's own.
  const common = {
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
  };
  // A meta template (a composite job type) adds nothing (UFDL: "not adding any additional
  // information for meta-templates").
  if (definition.children) return common;
  return {
    ...common,
    type: 'Job',
    executor_class: '',
    required_packages: '',
    parameters: fieldsJson(definition.parameters),
    inputs: fieldsJson(definition.inputs),
  };
}

/**
 * Where templates are served: UFDL's /v1/job-templates (every template), and the
 * /v1/workable-templates its TypeScript client and older servers use (workable ones only).
 */
export interface TemplateScope {
  prefix: '/job-templates' | '/workable-templates';
  workableOnly: boolean;
}

export const JOB_TEMPLATES: TemplateScope = { prefix: '/job-templates', workableOnly: false };
export const WORKABLE_TEMPLATES: TemplateScope = {
  prefix: '/workable-templates',
  workableOnly: true,
};

/** The route of one template in a scope: `/job-templates/:pk`. */
export const templatePath = (scope: TemplateScope): string => `${scope.prefix}/:pk(^\\d+)`;

/** The template named by the route's pk, deleted ones included (as UFDL's get_object). */
export async function loadTemplate(
  ctx: EngineContext,
  request: FastifyRequest,
  scope: TemplateScope = JOB_TEMPLATES,
): Promise<JobTypeRow> {
  const row = await findJobType(ctx.db, Number((request.params as { pk: string }).pk));
  if (!row) throw NOT_FOUND();
  // A meta template is not in the workable templates' query set.
  if (scope.workableOnly && (await definitionOf(ctx, row)).children) throw NOT_FOUND();
  return row;
}
