import type { FastifyRequest } from 'fastify';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import { dialectMapValuesInUse, outputTypesInUse } from '../../store/dialect-json-values.js';
import { findRevision, listJobTypes } from '../../store/job-types.js';
import { allow, isAuthenticated } from './auth.js';
import { pkOf, type UfdlFace } from './context.js';
import { NOT_FOUND } from './errors.js';
import { compareRows, matches, parseFilterSpec, type FieldCatalog } from './filter-spec.js';
import { UFDL_TYPE_OF_FIELD } from './job-json.js';
import type { RouteTable } from './routing.js';
import {
  typeConstructorNames,
  UFDL_JOB_CONTRACTS,
  UFDL_JOB_TYPES,
  type UfdlRegisteredClass,
} from './type-catalogue.js';

/*
 * /v1/job-types and /v1/job-contracts: list (with a FilterSpec) and retrieve, serialised as
 * UFDL's registry rows {pk, name, pkg, cls}. Drover has no UFDL type system of its own, so:
 *
 * - job contracts are the three UFDL's server ships (Predict, Train, Export);
 * - job types are those of UFDL's standard types that this installation uses: the types
 *   its templates show for their inputs, parameters and outputs, the types UFDL clients
 *   gave the values of jobs they created here, and the types of outputs, read as type
 *   strings (`PK<Dataset<…>>` uses PK and Dataset).
 *
 * Neither registry can be changed here (there are no Python classes to register): create,
 * update and destroy are refused as UFDL refuses them to all but staff.
 */

const TYPE = '/job-types/:pk(^\\d+)';
const CONTRACT = '/job-contracts/:pk(^\\d+)';

const FIELDS: FieldCatalog = {
  pk: { column: 'pk', kind: 'int' },
  name: { column: 'name', kind: 'text' },
  pkg: { column: 'pkg', kind: 'text' },
  cls: { column: 'cls', kind: 'text' },
};

const json = ({ pk, name, pkg, cls }: UfdlRegisteredClass) => ({ pk, name, pkg, cls });

function registryRoutes(
  routes: RouteTable,
  prefix: string,
  detail: string,
  entries: () => Promise<readonly UfdlRegisteredClass[]>,
): void {
  routes.add('POST', `${prefix}/list`, async (request) => {
    allow(request, isAuthenticated(request));
    const spec = parseFilterSpec(FIELDS, request.body);
    // include_inactive changes nothing: registry rows are never soft-deleted.
    return (await entries())
      .map(json)
      .filter((row) => spec.conditions.every((c) => matches(row, c)))
      .sort(compareRows([...spec.order, { column: 'pk', ascending: true }]));
  });
  routes.add('GET', detail, async (request) => {
    allow(request, isAuthenticated(request));
    const pk = pkOf(request);
    const found = (await entries()).find((e) => e.pk === pk);
    if (!found) throw NOT_FOUND();
    return json(found);
  });
  const refused = async (request: FastifyRequest) => {
    allow(request, false);
  };
  routes.add('POST', `${prefix}/create`, refused);
  routes.add('PUT', detail, refused);
  routes.add('PATCH', detail, refused);
  routes.add('DELETE', detail, refused);
}

export function jobTypeAndContractRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx } = face.engine;

  /** Every UFDL type string this installation's templates, jobs and outputs carry. */
  const typeStringsInUse = async (): Promise<Set<string>> => {
    // The types UFDL's clients gave this installation: of the inputs and parameters of the
    // jobs made through UFDL's create-job (meta-create-job.ts keeps them), and of outputs.
    const strings = new Set([
      ...(await dialectMapValuesInUse(ctx.db, ctx.dialect, 'ufdl', [
        'inputTypes',
        'parameterTypes',
      ])),
      ...(await outputTypesInUse(ctx.db)),
    ]);
    const { rows } = await listJobTypes(ctx.db, { limit: 10_000, offset: 0 });
    for (const row of rows) {
      const revision = await findRevision(ctx.db, row.id, row.latest_revision);
      if (!revision) continue;
      const definition = JSON.parse(revision.definition_json) as JobTypeDefinition;
      for (const field of [...definition.inputs, ...definition.parameters]) {
        strings.add(UFDL_TYPE_OF_FIELD[field.type] ?? 'JSON');
      }
      // Definitions stored before outputs were checked may hold any shape here.
      for (const output of definition.outputs ?? []) {
        if (typeof output?.type === 'string') strings.add(output.type);
      }
    }
    return strings;
  };

  registryRoutes(routes, '/job-types', TYPE, async () => {
    const names = new Set<string>();
    for (const s of await typeStringsInUse()) {
      for (const name of typeConstructorNames(s) ?? []) names.add(name);
    }
    return UFDL_JOB_TYPES.filter((t) => names.has(t.name));
  });
  registryRoutes(routes, '/job-contracts', CONTRACT, async () => UFDL_JOB_CONTRACTS);
}
