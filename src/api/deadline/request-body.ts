import type { FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';
import { asBool, isRecord } from './values.js';

/*
 * Bodies are JSON whatever the Content-Type says: the 10.0 Python client sends JSON as
 * application/x-www-form-urlencoded, others send none (reference §1b).
 */

export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body;
  const text = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') throw badRequest('There was no message body in the request.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('The message body is not a JSON object.');
  }
  if (!isRecord(parsed)) throw badRequest('The message body is not a JSON object.');
  return parsed;
}

/** Query values by name without regard to case; a repeated key is joined with commas. */
export function queryOf(request: FastifyRequest): (key: string) => string | undefined {
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    const text = Array.isArray(v) ? v.map(String).join(',') : String(v);
    const lower = k.toLowerCase();
    map.set(lower, map.has(lower) ? `${map.get(lower)},${text}` : text);
  }
  return (key) => map.get(key.toLowerCase());
}

export const queryFlag = (value: string | undefined): boolean => asBool(value ?? '') === true;
