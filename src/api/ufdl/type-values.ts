import type { FastifyRequest } from 'fastify';
import { allow, isAuthenticated } from './auth.js';
import type { UfdlFace } from './context.js';
import { UfdlError } from './errors.js';
import { outputInfo } from './job-json.js';
import { LIST_LIMIT } from './jobs.js';
import { listUfdlOutputs } from './output-list.js';
import type { RouteTable } from './routing.js';
import { typeConstructorNames, UFDL_JOB_TYPES } from './type-catalogue.js';

/*
 * GET /v1/job-types/get-all-values/{type}: the values a server-resident UFDL type has on
 * this server, as UFDL's list of that type's table gives them. Of UFDL's tables Drover
 * has job outputs only, so `JobOutput<T>` lists the active outputs of type T; the other
 * server-resident types (datasets, domains, frameworks, hardware, docker images,
 * pretrained models) have no rows on a Drover and list []. Errors are UFDL's: a type
 * string it cannot parse is couldnt_parse_type, a type of no table not_server_resident_type,
 * a JobOutput without its output type type_is_abstract (all 400).
 */

/** UFDL's ServerResidentType subclasses (ufdl-job-types, standard.server and JobOutput). */
const SERVER_RESIDENT = new Set([
  'CUDAVersion',
  'Dataset',
  'DockerImage',
  'Domain',
  'Framework',
  'Hardware',
  'PretrainedModel',
  'JobOutput',
]);

/** Bound of a type string in the URL; UFDL's longest standard ones are under 100. */
const MAX_TYPE_STRING = 1000;

const badRequest = (detail: string) => new UfdlError(400, detail);

/** `Head<args>` → head and the raw text of its arguments (undefined without any). */
function split(typeString: string): { head: string; args: string | undefined } {
  const open = typeString.indexOf('<');
  if (open < 0) return { head: typeString.trim(), args: undefined };
  return { head: typeString.slice(0, open).trim(), args: typeString.slice(open + 1, -1).trim() };
}

export function typeValueRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx } = face.engine;
  const known = new Set(UFDL_JOB_TYPES.map((t) => t.name));

  const handler = async (request: FastifyRequest) => {
    allow(request, isAuthenticated(request));
    const typeString = (request.params as { '*': string })['*'];
    if (typeString.length > MAX_TYPE_STRING) {
      throw badRequest(`Type string longer than ${MAX_TYPE_STRING} characters`);
    }
    const names = typeConstructorNames(typeString);
    if (!names || names.length === 0) {
      throw badRequest(`Couldn't parse type string '${typeString}'`);
    }
    // Only the outer constructor decides; an output's type may come from a domain package
    // (`Compressed<TextFile>`) that Drover's catalogue of standard types does not list.
    const { head, args } = split(typeString);
    if (!known.has(head)) throw badRequest(`Unknown type '${head}' in '${typeString}'`);
    if (!SERVER_RESIDENT.has(head)) {
      throw badRequest(`${typeString} is not a server-resident type`);
    }
    if (head !== 'JobOutput') return [];
    if (args === undefined || args === '') throw badRequest(`${typeString} is abstract`);
    const rows = await listUfdlOutputs(ctx.db, ctx.dialect, {
      conditions: [{ type: 'exact', column: 'type', value: args }],
      order: [],
      includeInactive: false,
      limit: LIST_LIMIT,
    });
    return rows.map(outputInfo);
  };
  // UFDL's route takes the rest of the path (`.*`), slashes and all; no trailing-slash twin.
  routes.add('GET', '/job-types/get-all-values/*', handler, { slash: false });
}
