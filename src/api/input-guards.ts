import type { FastifyInstance } from 'fastify';
import { DroverError, invalid } from '../domain/errors.js';

/*
 * Input that no schema of a face catches but the database refuses, turned into each face's
 * own 400 instead of a 500:
 *
 * - a NUL character in any string: PostgreSQL's text cannot hold one (SQLite stores it, so
 *   without this check the two databases answered differently);
 * - any other value PostgreSQL refuses as data (SQLSTATE class 22: a number out of range
 *   for its column, a malformed value), as a last line behind the schemas' bounds.
 */

/** Refuses a request whose body, query or params hold a NUL character, on every route. */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [where, value] of [
      ['body', request.body],
      ['query', request.query],
      ['params', request.params],
    ] as const) {
      const path = nulPath(value, where);
      if (path) {
        throw invalid(
          `${path} contains a NUL character (\\u0000), which cannot be stored; remove it`,
        );
      }
    }
  });
}

/** Where the first NUL character is (`body.name`), walking without recursion. */
function nulPath(value: unknown, root: string): string | undefined {
  // A text body (Deadline's) is read as JSON later: find the escaped form there too.
  if (typeof value === 'string') {
    return value.includes('\0') || /(^|[^\\])\\u0000/i.test(value) ? root : undefined;
  }
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\0')) return path;
    } else if (isParsed(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\0')) return path;
        stack.push([child, Array.isArray(current) ? `${path}[${key}]` : `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * Only what a parser built (arrays, plain objects) is walked: an upload's body is its
 * request stream, whose object graph has cycles, and a raw Buffer's bytes are no strings.
 */
function isParsed(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A PostgreSQL data error (SQLSTATE 22xxx) as the 400 it is; any other error unchanged. */
export function asInputError(error: unknown): unknown {
  if (error instanceof DroverError) return error;
  const e = error as { code?: unknown; severity?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^22/.test(e.code) && typeof e.severity === 'string') {
    return invalid(`a value cannot be stored: ${String(e.message)}`);
  }
  return error;
}
