import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../../domain/errors.js';

/*
 * The native API answers a query parameter it does not know with 400. Ajv would drop or keep
 * one silently, and a misspelt filter (`?sate=FAILED`) then lists every job as if it had
 * worked. Dialects keep their systems' behaviour: this hook is added in the native plugin's
 * scope only.
 */

interface SchemaLike {
  properties?: Record<string, unknown>;
  allOf?: SchemaLike[];
  anyOf?: SchemaLike[];
  oneOf?: SchemaLike[];
}

/** Every property name a querystring schema (an object or an intersection of them) names. */
function namesOf(schema: SchemaLike | undefined, into = new Set<string>()): Set<string> {
  if (!schema) return into;
  for (const name of Object.keys(schema.properties ?? {})) into.add(name);
  for (const part of [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) {
    namesOf(part, into);
  }
  return into;
}

const known = new WeakMap<object, Set<string>>();
const NONE = new Set<string>();

function knownNames(request: FastifyRequest): Set<string> {
  const schema = request.routeOptions.schema?.querystring as SchemaLike | undefined;
  if (!schema) return NONE;
  let names = known.get(schema);
  if (!names) {
    names = namesOf(schema);
    known.set(schema, names);
  }
  return names;
}

export function refuseUnknownQueryParameters(app: FastifyInstance): void {
  // A hook with a callback, not async: every request runs it (see input-guards.ts).
  app.addHook('preValidation', (request, _reply, done) => {
    const query = request.query as Record<string, unknown> | undefined;
    let names: Set<string> | undefined;
    let unknown: string[] | undefined;
    for (const name in query) {
      if (!Object.hasOwn(query, name)) continue;
      // Most requests carry no query, and then their route is not read (Fastify builds its
      // routeOptions anew at each read).
      names ??= knownNames(request);
      if (!names.has(name)) (unknown ??= []).push(name);
    }
    if (!unknown || !names) return done();
    const accepted = [...names].sort();
    const url = request.routeOptions.url;
    done(
      invalid(
        `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: ` +
          (accepted.length
            ? `${url} accepts ${accepted.join(', ')}`
            : `${url} takes no query parameters`),
        { field: unknown[0] },
      ),
    );
  });
}
