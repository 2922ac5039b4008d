import type { FastifyRequest } from 'fastify';
import type { ChildJob } from '../../domain/child-jobs.js';
import { DroverError } from '../../domain/errors.js';
import {
  normaliseDefinition,
  type DefinitionInput,
  type InterfaceField,
} from '../../domain/job-type-definition.js';
import {
  createJobType,
  purgeJobType,
  reviseJobType,
  setJobTypeActive,
} from '../../engine/job-types/job-types.js';
import { findJobTypeByName, listJobTypes } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { allow, isAdmin, isAuthenticated } from './auth.js';
import type { UfdlFace } from './context.js';
import { badName, jsonParseFailure, UfdlError } from './errors.js';
import { ufdlTime } from './job-json.js';
import { childDefinition } from './meta-create-job.js';
import type { RouteTable } from './routing.js';
import {
  definitionOf,
  loadTemplate,
  templateJson,
  templatePath,
  ufdlTypeOf,
  type TemplateScope,
} from './template-json.js';
import { typeConstructorNames, UFDL_JOB_CONTRACTS } from './type-catalogue.js';

/*
 * The rest of UFDL's /v1/job-templates: what a template takes and gives (get-all-parameters,
 * get-types, get-outputs), the templates fulfilling a contract, soft and hard delete,
 * reinstate, and import/export. A template is a Drover job type, so:
 *
 * - destroy deactivates the job type (out of template lists, no create-job; Scale shows it
 *   deprecated), reinstate activates it, hard delete removes it when no job refers to it;
 * - import and export carry Drover's own job-type document (what POST /api/v1/job-types
 *   takes), not UFDL's JobTemplateSpec: a UFDL template names a Python executor class that
 *   Drover cannot run, a Drover job type a command that UFDL cannot;
 * - a Drover job type fulfils no UFDL contract and has no contract type parameters, so the
 *   templates matching a contract are none and get-types is empty; get-outputs lists the
 *   outputs the job type declares.
 */

/** JSON schemas of Drover's field types, the values a parameter takes. */
function schemaOf(field: InterfaceField): Record<string, unknown> {
  if (field.type === 'file') {
    const one = { type: ['string', 'integer'] };
    return field.multiple ? { type: 'array', items: one } : one;
  }
  return { type: field.type };
}

const DOCUMENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'definition'],
  properties: {
    name: { type: 'string' },
    version: { type: ['string', 'integer'] },
    title: { type: 'string' },
    description: { type: 'string' },
    category: { type: 'string' },
    definition: { type: 'object', description: 'a Drover job-type definition' },
  },
};

interface JobTypeDocument {
  name: string;
  version?: string;
  title?: string;
  description?: string;
  category?: string;
  definition: Record<string, unknown>;
}

function jobTypeDocument(body: unknown): JobTypeDocument {
  const fail = (reason: string): never => {
    throw jsonParseFailure(reason, body, DOCUMENT_SCHEMA);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('the body must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !(k in DOCUMENT_SCHEMA.properties));
  if (extra) fail(`Additional properties are not allowed ('${extra}' was unexpected)`);
  if (typeof o.name !== 'string') fail("'name' is a required property of type 'string'");
  const d = o.definition;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) {
    fail("'definition' is a required property of type 'object'");
  }
  for (const key of ['title', 'description', 'category'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') fail(`'${key}' must be a string`);
  }
  const v = o.version;
  if (
    v !== undefined &&
    !(typeof v === 'string' && v !== '') &&
    !(Number.isInteger(v) && (v as number) >= 1)
  ) {
    fail("'version' must be a non-empty string or an integer >= 1");
  }
  return {
    name: o.name as string,
    ...(v !== undefined ? { version: String(v) } : {}),
    ...(typeof o.title === 'string' ? { title: o.title } : {}),
    ...(typeof o.description === 'string' ? { description: o.description } : {}),
    ...(typeof o.category === 'string' ? { category: o.category } : {}),
    definition: d as Record<string, unknown>,
  };
}

export function jobTemplateActionRoutes(
  face: UfdlFace,
  routes: RouteTable,
  scope: TemplateScope,
): void {
  const { ctx } = face.engine;
  const TEMPLATE = templatePath(scope);
  const load = (request: FastifyRequest) => loadTemplate(ctx, request, scope);
  softDeleteAndImportRoutes();
  // What a template takes and gives: /v1/job-templates only (UFDL's workable-templates view
  // had soft delete, create-job and import/export, not these).
  if (scope.workableOnly) return;

  routes.add(
    'GET',
    `${TEMPLATE}/get-all-parameters`,
    async (request) => {
      allow(request, isAuthenticated(request));
      const definition = await definitionOf(ctx, await load(request));
      // A meta template's parameters are its children's, named `child:name` (UFDL's naming).
      const parameters = definition.children
        ? await childParameters(definition.children)
        : definition.parameters;
      return Object.fromEntries(
        parameters.map((p) => [
          p.name,
          {
            types: { [ufdlTypeOf(p)]: schemaOf(p) },
            help: p.description ?? '',
            ...(p.required
              ? {}
              : {
                  default: { value: null, type: ufdlTypeOf(p), schema: schemaOf(p), const: false },
                }),
          },
        ]),
      );
    },
    { slash: false },
  );

  /** A workable template's definition; a meta template is UFDL's BadModelType (500 there). */
  const workable = async (request: FastifyRequest) => {
    const definition = await definitionOf(ctx, await load(request));
    if (definition.children) {
      throw new UfdlError(
        406,
        "Model should be of type 'WorkableTemplate' but was of type 'MetaTemplate'",
      );
    }
    return definition;
  };

  routes.add(
    'GET',
    `${TEMPLATE}/get-types`,
    async (request) => {
      allow(request, isAuthenticated(request));
      await workable(request);
      return {};
    },
    { slash: false },
  );

  // UFDL's pattern for get-outputs is not anchored at its end; a trailing slash is taken.
  const outputs = async (request: FastifyRequest) => {
    allow(request, isAuthenticated(request));
    const definition = await workable(request);
    return Object.fromEntries(definition.outputs.map((o) => [o.name, o.type]));
  };
  routes.add('GET', `${TEMPLATE}/get-outputs`, outputs);

  routes.add(
    'GET',
    '/job-templates/get-all-matching-templates/*',
    async (request) => {
      allow(request, isAuthenticated(request));
      const name = (request.params as { '*': string })['*'];
      const contract = UFDL_JOB_CONTRACTS.find((c) => c.name === name);
      if (!contract) throw badName(name, 'Unknown contract name');
      // The query names inputs of the contract and the types of values for them.
      const query = request.query as Record<string, string | string[]>;
      for (const value of Object.values(query)) {
        for (const typeString of Array.isArray(value) ? value : [value]) {
          if (!typeConstructorNames(typeString)) {
            throw new UfdlError(400, `Couldn't parse type string '${typeString}'`);
          }
        }
      }
      for (const input of Object.keys(query)) {
        if (!contract.inputs.includes(input)) {
          throw badName(input, `Not an input to ${contract.name}`);
        }
      }
      // No Drover job type declares a UFDL contract (see above).
      return [];
    },
    { slash: false },
  );

  function softDeleteAndImportRoutes(): void {
    routes.add('DELETE', TEMPLATE, async (request, reply) => {
      allow(request, isAdmin(request));
      const row = await load(request);
      await setJobTypeActive(ctx, row.id, false);
      return reply.status(204).send();
    });

    routes.add('DELETE', `${TEMPLATE}/reinstate`, async (request) => {
      allow(request, isAdmin(request));
      const row = await load(request);
      return templateJson(ctx, await setJobTypeActive(ctx, row.id, true));
    });

    routes.add('DELETE', `${TEMPLATE}/hard`, async (request) => {
      allow(request, isAdmin(request));
      const row = await load(request);
      // UFDL soft-deletes before it deletes: the answer shows the template deleted.
      const json = await templateJson(ctx, row);
      await purgeJobType(ctx, row.id);
      return { ...json, deletion_time: json.deletion_time ?? ufdlTime(ctx.clock()) };
    });

    routes.add('POST', `${scope.prefix}/import`, async (request) => {
      allow(request, isAdmin(request));
      const document = jobTypeDocument(request.body);
      if (scope.workableOnly && document.definition.children !== undefined) {
        throw new UfdlError(
          400,
          'Bad job template: a workable template has no children; import a meta template at /v1/job-templates/import',
        );
      }
      try {
        return templateJson(ctx, await importJobType(document));
      } catch (error) {
        if (error instanceof DroverError && error.code === 'VALIDATION') {
          throw new UfdlError(400, `Bad job template: ${error.message}`);
        }
        throw error;
      }
    });

    routes.add('GET', `${TEMPLATE}/export`, async (request) => {
      allow(request, isAdmin(request));
      const row = await load(request);
      return {
        name: row.name,
        version: row.version,
        title: row.title,
        description: row.description,
        category: row.category,
        definition: await definitionOf(ctx, row),
      };
    });
  }

  /**
   * UFDL replaces a template of the same name and version; here that is a new revision of
   * the job type (its jobs keep theirs), active again. Without a version, the next one.
   */
  async function importJobType(document: JobTypeDocument): Promise<JobTypeRow> {
    const { definition, ...about } = document;
    const version = document.version ?? (await nextVersion(document.name));
    const existing = await findJobTypeByName(ctx.db, document.name, version);
    if (!existing) {
      return createJobType(ctx, { ...about, version, definition: definition as DefinitionInput });
    }
    // A revision merges into the last definition; the document replaces it whole.
    const whole = normaliseDefinition(definition as DefinitionInput);
    await reviseJobType(ctx, existing.id, {
      ...(about.title !== undefined ? { title: about.title } : {}),
      ...(about.description !== undefined ? { description: about.description } : {}),
      ...(about.category !== undefined ? { category: about.category } : {}),
      definition: { progressPattern: undefined, ...whole },
    });
    return setJobTypeActive(ctx, existing.id, true);
  }

  async function childParameters(children: readonly ChildJob[]): Promise<InterfaceField[]> {
    const all: InterfaceField[] = [];
    for (const child of children) {
      const definition = await childDefinition(ctx, child);
      for (const p of definition?.parameters ?? [])
        all.push({ ...p, name: `${child.name}:${p.name}` });
    }
    return all;
  }

  async function nextVersion(name: string): Promise<string> {
    const { rows } = await listJobTypes(ctx.db, { name, limit: 10_000, offset: 0 });
    const numbers = rows.map((r) => r.version).filter((v) => /^\d+$/.test(v));
    return String(Math.max(0, ...numbers.map(Number)) + 1);
  }
}
