import type { FastifyRequest } from 'fastify';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import { submitJob } from '../../engine/jobs/job-submission.js';
import { listJobTypes } from '../../store/job-types.js';
import { allow, isAuthenticated } from './auth.js';
import { jobJson, type UfdlFace } from './context.js';
import { UfdlError } from './errors.js';
import { compareRows, matches, parseFilterSpec, type FieldCatalog } from './filter-spec.js';
import type { NotificationOverride } from './job-json.js';
import { metaJobParts } from './meta-create-job.js';
import { UFDL_POOL } from './nodes.js';
import type { RouteTable } from './routing.js';
import {
  definitionOf,
  loadTemplate,
  templateJson,
  templatePath,
  type TemplateScope,
} from './template-json.js';

/*
 * UFDL's job templates are Drover's job types: a composite type is a meta template, any
 * other a workable one. create-job submits a job of the type with one task (a meta
 * template: a parent and its children), in the pool of UFDL nodes, with one try (UFDL does
 * not retry: a failure is the job's end until reset). The same routes serve
 * /v1/workable-templates, where meta templates are not found.
 */

const TRANSITIONS = [
  'acquire',
  'release',
  'start',
  'progress',
  'finish',
  'error',
  'reset',
  'abort',
  'cancel',
];

const FIELDS: FieldCatalog = {
  pk: { column: 'pk', kind: 'int' },
  name: { column: 'name', kind: 'text' },
  version: { column: 'version', kind: 'text' },
  description: { column: 'description', kind: 'text' },
  scope: { column: 'scope', kind: 'text' },
  type: { column: 'type', kind: 'text' },
  executor_class: { column: 'executor_class', kind: 'text' },
  creation_time: { column: 'creation_time_ms', kind: 'time' },
  deletion_time: { column: 'deletion_time_ms', kind: 'time' },
  // Django's reverse one-to-one of each kind of template: non-null for that kind.
  workabletemplate: { column: 'workabletemplate', kind: 'int' },
  metatemplate: { column: 'metatemplate', kind: 'int' },
};

class BodyError extends Error {}

function strictValues(
  value: unknown,
  where: string,
): Record<string, { value: unknown; type: string }> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BodyError(`${where} must be an object`);
  }
  for (const [name, v] of Object.entries(value)) {
    const o = v as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || !('value' in o) || typeof o.type !== 'string') {
      throw new BodyError(`${where}.${name} must be {"value": …, "type": "…"}`);
    }
    const extra = Object.keys(o).find((k) => k !== 'value' && k !== 'type');
    if (extra)
      throw new BodyError(
        `Additional properties are not allowed ('${extra}' was unexpected) in ${where}.${name}`,
      );
  }
  return value as Record<string, { value: unknown; type: string }>;
}

function notificationOverride(value: unknown): NotificationOverride {
  const o = value as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new BodyError('notification_override must be an object');
  const extra = Object.keys(o).find((k) => k !== 'actions' && k !== 'keep_default');
  if (extra)
    throw new BodyError(
      `Additional properties are not allowed ('${extra}' was unexpected) in notification_override`,
    );
  if (o.keep_default !== undefined && typeof o.keep_default !== 'boolean')
    throw new BodyError('keep_default must be a boolean');
  const actions = o.actions as Record<string, unknown>;
  if (typeof actions !== 'object' || actions === null || Array.isArray(actions))
    throw new BodyError('notification_override.actions is a required object');
  for (const [key, list] of Object.entries(actions)) {
    if (!TRANSITIONS.map((t) => `on_${t}`).includes(key))
      throw new BodyError(
        `Additional properties are not allowed ('${key}' was unexpected) in actions`,
      );
    if (!Array.isArray(list)) throw new BodyError(`actions.${key} must be an array`);
    for (const n of list) {
      const keys = Object.keys((n ?? {}) as object).filter((k) => k !== 'suppress_for_parent');
      const shape = keys.sort().join(',');
      const ok =
        shape === '' ||
        shape === 'message' ||
        (['body', 'subject'].every((k) => keys.includes(k)) &&
          keys.every((k) => ['subject', 'body', 'to', 'cc', 'bcc'].includes(k)));
      if (typeof n !== 'object' || n === null || !ok)
        throw new BodyError(
          `actions.${key} holds a notification that is neither print, email nor websocket`,
        );
    }
  }
  return o as unknown as NotificationOverride;
}

export function jobTemplateRoutes(face: UfdlFace, routes: RouteTable, scope: TemplateScope): void {
  const { ctx } = face.engine;
  const TEMPLATE = templatePath(scope);
  const load = (request: FastifyRequest) => loadTemplate(ctx, request, scope);

  routes.add('POST', `${scope.prefix}/list`, async (request) => {
    allow(request, isAuthenticated(request));
    const spec = parseFilterSpec(FIELDS, request.body);
    const { rows } = await listJobTypes(ctx.db, { limit: 10_000, offset: 0 });
    const shaped = await Promise.all(
      rows
        .filter((r) => spec.includeInactive || r.is_active === 1)
        .map(async (r) => {
          const json = await templateJson(ctx, r);
          const meta = !('type' in json);
          return {
            ...json,
            creation_time_ms: r.created_at,
            deletion_time_ms: r.is_active === 1 ? null : r.last_modified,
            workabletemplate: meta ? null : r.id,
            metatemplate: meta ? r.id : null,
          };
        }),
    );
    return shaped
      .filter((t) => !scope.workableOnly || t.workabletemplate !== null)
      .filter((t) => spec.conditions.every((c) => matches(t, c)))
      .sort(compareRows([...spec.order, { column: 'pk', ascending: true }]))
      .map(
        ({
          creation_time_ms: _c,
          deletion_time_ms: _d,
          workabletemplate: _w,
          metatemplate: _m,
          ...t
        }) => t,
      );
  });

  routes.add('GET', TEMPLATE, async (request) => {
    allow(request, isAuthenticated(request));
    return templateJson(ctx, await load(request));
  });

  // Templates are made by import; UFDL's create and update are AllowNone.
  routes.add('POST', `${scope.prefix}/create`, async (request) => allow(request, false));
  routes.add('PUT', TEMPLATE, async (request) => allow(request, false));
  routes.add('PATCH', TEMPLATE, async (request) => allow(request, false));

  routes.add('POST', `${TEMPLATE}/create-job`, async (request) => {
    allow(request, isAuthenticated(request));
    const row = await load(request);
    // A deleted template is out of the lists; UFDL would still make jobs of it, Drover not.
    if (row.is_active !== 1) {
      throw new UfdlError(
        406,
        `Job template ${row.name} v${row.version} is deleted: reinstate it to create jobs from it`,
      );
    }
    const body = (request.body ?? undefined) as Record<string, unknown> | undefined;
    let inputValues: Record<string, { value: unknown; type: string }>;
    let parameterValues: Record<string, { value: unknown; type: string }> = {};
    let override: NotificationOverride | undefined;
    try {
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw new BodyError('the body must be a JSON object');
      const allowed = [
        'input_values',
        'parameter_values',
        'description',
        'notification_override',
        'child_notification_overrides',
      ];
      const extra = Object.keys(body).find((k) => !allowed.includes(k));
      if (extra)
        throw new BodyError(`Additional properties are not allowed ('${extra}' was unexpected)`);
      if (!('input_values' in body)) throw new BodyError("'input_values' is a required property");
      inputValues = strictValues(body.input_values, 'input_values');
      if (body.parameter_values !== undefined)
        parameterValues = strictValues(body.parameter_values, 'parameter_values');
      if (body.description !== undefined && typeof body.description !== 'string')
        throw new BodyError('description must be a string');
      if (body.notification_override !== undefined)
        override = notificationOverride(body.notification_override);
    } catch (error) {
      if (error instanceof BodyError) {
        throw new UfdlError(
          400,
          `Unable to parse JSON: ${error.message}\n\n${JSON.stringify(body ?? null)}`,
        );
      }
      throw error;
    }
    const definition = await definitionOf(ctx, row);
    const description = typeof body.description === 'string' ? body.description : '';
    const common = {
      type: row.name,
      typeVersion: row.version,
      ...(description ? { name: description.slice(0, 500) } : {}),
      user: request.principal!.name,
      comment: description,
      pool: UFDL_POOL,
      maxTries: 1,
    };
    if (definition.children) {
      const childOverrides: Record<string, NotificationOverride> = {};
      const raw = body.child_notification_overrides;
      if (raw !== undefined) {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          throw new UfdlError(
            400,
            'Unable to parse JSON: child_notification_overrides must be an object',
          );
        }
        try {
          for (const [name, value] of Object.entries(raw)) {
            childOverrides[name] = notificationOverride(value);
          }
        } catch (error) {
          if (error instanceof BodyError)
            throw new UfdlError(400, `Unable to parse JSON: ${error.message}`);
          throw error;
        }
      }
      const parts = await metaJobParts(
        ctx,
        row,
        definition.children,
        inputValues,
        parameterValues,
        childOverrides,
      );
      const id = await submitJob(ctx, {
        ...common,
        inputs: parts.inputs,
        parameters: parts.parameters,
        childSpecs: parts.childSpecs,
        dialect: {
          ufdl: {
            inputTypes: parts.inputTypes,
            parameterTypes: parts.parameterTypes,
            ...(override ? { notificationOverride: override } : {}),
          },
        },
      });
      return jobJson(face, id);
    }
    if (body.child_notification_overrides !== undefined) {
      throw new UfdlError(
        406,
        `Job template ${row.name} is a workable template, and cannot have child notification overrides`,
      );
    }
    for (const input of definition.inputs) {
      if (input.required && !(input.name in inputValues)) {
        throw new UfdlError(406, `Invalid job input '${input.name}': a value is required`);
      }
    }
    for (const name of Object.keys(parameterValues)) {
      if (!definition.parameters.some((p) => p.name === name)) {
        throw new UfdlError(406, `Job template ${row.name} has no parameter '${name}'`);
      }
    }
    for (const p of definition.parameters) {
      if (p.required && !(p.name in parameterValues)) {
        throw new UfdlError(400, `Missing parameter '${p.name}'`);
      }
    }
    // Inputs the template does not take are dropped, as UFDL does.
    const known = (values: typeof inputValues, fields: JobTypeDefinition['inputs']) =>
      Object.fromEntries(
        Object.entries(values).filter(([name]) => fields.some((f) => f.name === name)),
      );
    const inputs = known(inputValues, definition.inputs);
    const parameters = known(parameterValues, definition.parameters);
    const id = await submitJob(ctx, {
      ...common,
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value])),
      parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.value])),
      dialect: {
        ufdl: {
          inputTypes: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.type])),
          parameterTypes: Object.fromEntries(
            Object.entries(parameters).map(([k, v]) => [k, v.type]),
          ),
          ...(override ? { notificationOverride: override } : {}),
        },
      },
    });
    return jobJson(face, id);
  });
}
