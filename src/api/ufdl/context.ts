import type { FastifyRequest } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { liveExecutionsOfNode } from '../../store/executions.js';
import { NOT_FOUND, UfdlError } from './errors.js';
import { renderJobs } from './job-json.js';
import { findUfdlJob, type UfdlJobViewRow } from './job-view.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The node named by a valid `Node-Id` header (UFDL's only tie of a request to a node). */
    ufdlNodeId: number | undefined;
  }
}

/** What every UFDL route group shares. */
export interface UfdlFace {
  engine: Engine;
  auth: boolean;
}

export function pkOf(request: FastifyRequest): number {
  const pk = Number((request.params as { pk?: string }).pk);
  if (!Number.isSafeInteger(pk) || pk < 1) throw NOT_FOUND();
  return pk;
}

export async function loadJob(face: UfdlFace, pk: number): Promise<UfdlJobViewRow> {
  const row = await findUfdlJob(face.engine.ctx.db, pk);
  if (!row) throw NOT_FOUND();
  return row;
}

export async function jobJson(face: UfdlFace, pk: number) {
  const [json] = await renderJobs(face.engine.ctx, [await loadJob(face, pk)]);
  return json!;
}

/** UFDL's Node.current_job: the job whose execution the node has started and not ended. */
export async function currentJobOf(face: UfdlFace, nodeId: number): Promise<number | null> {
  const live = await liveExecutionsOfNode(face.engine.ctx.db, nodeId);
  return live.find((e) => e.state === 'RUNNING')?.job_id ?? null;
}

/** The body as a JSON object, or 400 naming what was expected. */
export function objectBody(
  request: FastifyRequest,
  required: Record<string, 'string' | 'boolean'>,
) {
  const body = request.body;
  const schema = {
    type: 'object',
    properties: Object.fromEntries(Object.entries(required).map(([k, t]) => [k, { type: t }])),
    required: Object.keys(required),
  };
  const fail = (reason: string): never => {
    throw new UfdlError(
      400,
      `Unable to parse JSON: ${reason}\n\n${JSON.stringify(body ?? null)}\n\nSchema:\n${JSON.stringify(schema, null, 2)}`,
    );
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('the body must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  for (const [key, type] of Object.entries(required)) {
    if (!(key in o)) fail(`'${key}' is a required property`);
    if (typeof o[key] !== type) fail(`${JSON.stringify(o[key])} is not of type '${type}'`);
  }
  return o;
}
