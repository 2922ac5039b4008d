import type { FastifyInstance } from 'fastify';
import { DroverError, invalid } from '../domain/errors.js';

/*
 * Input that no schema of a face catches but the database refuses, turned into each face's
 * own 400 instead of a 500:
 *
 * - a NUL character in any string: PostgreSQL's text cannot hold one (SQLite stores it, so
 *   without this check the two databases answered differently);
 * - a body nested deeper than MAX_JSON_DEPTH: JSON.parse reads 5,000 levels, but the code
 *   that later walks or re-serialises the value (JSON.stringify of stored data, a dialect's
 *   value coercion) ran out of stack: a 500 on Scale's and Deadline's submits (found by
 *   the fuzz). No document of any face needs more than a few dozen levels;
 * - a number that is not finite: `?limit=1e400` is coerced by Ajv to Infinity, which then
 *   passes `maximum` (a 500 on every paged native list, found by the fuzz), and a JSON
 *   `1e400` parses to Infinity, which free-form fields would store as null;
 * - any other value PostgreSQL refuses as data (SQLSTATE class 22: a number out of range
 *   for its column, a malformed value) or as too large (class 54: a text too long for an
 *   index entry), as a last line behind the schemas' bounds.
 */

/** Deeper JSON is refused; the deepest real documents (UFDL filters, Seed manifests) use ~20. */
export const MAX_JSON_DEPTH = 128;

/**
 * Refuses a request whose body, query or params hold a NUL character or a number that is
 * not finite, or whose body is nested deeper than MAX_JSON_DEPTH, on every route.
 */
export function guardInput(app: FastifyInstance): void {
  // After validation: the query's numbers exist only once Ajv has coerced them. Hooks with
  // a callback, not async: every request of every face runs them, and an async hook costs a
  // promise and a turn of the microtask queue.
  app.addHook('preHandler', (request, _reply, done) => {
    const path =
      tooLarge(request.body, 'body') ??
      tooLarge(request.query, 'querystring') ??
      tooLarge(request.params, 'params');
    done(
      path ? invalid(`${path} is a number too large to be stored; send a smaller one`) : undefined,
    );
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (depthOf(request.body) > MAX_JSON_DEPTH) {
      done(
        invalid(
          `the body is nested more than ${MAX_JSON_DEPTH} levels deep; send a flatter document`,
        ),
      );
      return;
    }
    const path =
      nulPath(request.body, 'body') ??
      nulPath(request.query, 'query') ??
      nulPath(request.params, 'params');
    done(
      path
        ? invalid(`${path} contains a NUL character (\\u0000), which cannot be stored; remove it`)
        : undefined,
    );
  });
}

/** Where `value` holds a number that is not finite, if it does. */
function tooLarge(value: unknown, where: string): string | undefined {
  return holds(value, notFinite) ? find(value, where, notFinite) : undefined;
}

const notFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);
const hasNul = (v: unknown): boolean => typeof v === 'string' && v.includes('\0');

/**
 * Whether `bad` picks any value or key of `value`, walking without recursion. Every
 * request's body, query and params are walked before and after validation, and `find`, which
 * names where a bad value is, builds a path string for every value it passes. (This file's
 * walks were ~1.2% of the server's busy time in a bench/peer.ts single-task profile,
 * building paths that were never read.)
 */
function holds(value: unknown, bad: (v: unknown) => boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (bad(current)) return true;
    if (!isParsed(current)) continue;
    if (Array.isArray(current)) {
      for (const child of current) stack.push(child);
    } else {
      for (const key in current) {
        if (!Object.hasOwn(current, key)) continue;
        if (bad(key)) return true;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Where the first value or key that `bad` picks is (`body.a[0]`; for a key, the object
 * holding it), walking without recursion. It builds a path for every value it passes, so it
 * runs only once `holds` has found one.
 */
function find(value: unknown, root: string, bad: (v: unknown) => boolean): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (bad(current)) return path;
    if (isParsed(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (bad(key)) return path;
        stack.push([child, Array.isArray(current) ? `${path}[${key}]` : `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/** Where the first NUL character is (`body.name`). */
function nulPath(value: unknown, root: string): string | undefined {
  // A text body (Deadline's) is read as JSON later: find the escaped form there too.
  if (typeof value === 'string') {
    return value.includes('\0') || /(^|[^\\])\\u0000/i.test(value) ? root : undefined;
  }
  return holds(value, hasNul) ? find(value, root, hasNul) : undefined;
}

/**
 * How deeply a value nests (a scalar is 0), walking without recursion. A text body (Deadline
 * reads its JSON later) is measured by its brackets outside strings, without parsing it.
 */
function depthOf(value: unknown): number {
  if (typeof value === 'string') return textDepth(value);
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (!isParsed(current)) continue;
    deepest = Math.max(deepest, depth + 1);
    // Past the limit the exact depth does not matter: stop early on a huge value.
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Only what a parser built is walked: an upload's body is its request stream, whose object
 * graph has cycles, and a raw Buffer's bytes are no strings. (A parsed query string is an
 * object of a prototype of its own, so "plain objects only" would let it through.)
 */
function isParsed(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (ArrayBuffer.isView(value)) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}

function textDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash: skip what it escapes
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > MAX_JSON_DEPTH) return deepest;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

/** A PostgreSQL data error (SQLSTATE 22xxx) as the 400 it is; any other error unchanged. */
export function asInputError(error: unknown): unknown {
  if (error instanceof DroverError) return error;
  const e = error as { code?: unknown; severity?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^(22|54)/.test(e.code) && typeof e.severity === 'string') {
    return invalid(`a value cannot be stored: ${String(e.message)}`);
  }
  return error;
}
