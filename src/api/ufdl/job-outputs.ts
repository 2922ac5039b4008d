import type { FastifyRequest } from 'fastify';
import { markOutputRemoved } from '../../engine/dispatch/single-task-job-control.js';
import { purgeOutput, reinstateOutput } from '../../engine/outputs/output-deletion.js';
import { findOutput } from '../../store/outputs.js';
import { allow, isAdmin, isAuthenticated } from './auth.js';
import { pkOf, type UfdlFace } from './context.js';
import { badArgumentType, badArgumentValue, NOT_FOUND, UfdlError } from './errors.js';
import { parseFilterSpec, type FieldCatalog } from './filter-spec.js';
import { outputInfo } from './job-json.js';
import { LIST_LIMIT } from './jobs.js';
import { listUfdlOutputs } from './output-list.js';
import type { RouteTable } from './routing.js';

/*
 * /v1/job-outputs: the outputs of all jobs by their own pk (a Drover output id), as UFDL's
 * JobOutputViewSet serves them. Soft delete is the same mark as a delete by name and type
 * under /v1/jobs/{pk}/outputs: the job still lists the output and it still holds its name;
 * the native API no longer shows it. Retrieve and download find deleted outputs too, as
 * UFDL's do (only the list hides them). Create and update are UFDL's AllowNone.
 */

const OUTPUT = '/job-outputs/:pk(^\\d+)';

const FIELDS: FieldCatalog = {
  pk: { column: 'pk', kind: 'int' },
  job: { column: 'job', kind: 'int' },
  'job.pk': { column: 'job', kind: 'int' },
  name: { column: 'name', kind: 'text' },
  type: { column: 'type', kind: 'text' },
  creator: { column: 'creator', kind: 'int' },
  'creator.pk': { column: 'creator', kind: 'int' },
  creation_time: { column: 'creation_time', kind: 'time' },
  deletion_time: { column: 'deletion_time', kind: 'time' },
};

/** The one format an output has: its bytes as stored, named by the name's extension. */
function storedFormat(name: string): string | undefined {
  const base = name.split('/').at(-1) ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1) : undefined;
}

/** DRF's header for the file name; names outside printable ASCII go as RFC 5987 too. */
function attachment(name: string): string {
  const base = name.split('/').at(-1) ?? 'output';
  if (/^[\x21-\x7e]+$/.test(base) && !/[";\\]/.test(base)) return `attachment; filename=${base}`;
  const ascii = base.replace(/[^\x20-\x7e]|["\\;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

/** The download body: optional `filetype` and `params`, as DownloadableViewSet reads them. */
function downloadOptions(body: unknown): { filetype?: string; params: Record<string, unknown> } {
  if (body === undefined || body === null) return { params: {} };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badArgumentType('download', 'body', 'JSON object', body);
  }
  const o = body as Record<string, unknown>;
  const params = o.params ?? {};
  const isQueryParameters =
    typeof params === 'object' &&
    params !== null &&
    !Array.isArray(params) &&
    Object.values(params).every(
      (v) => typeof v === 'string' || (Array.isArray(v) && v.every((e) => typeof e === 'string')),
    );
  if (!isQueryParameters) {
    throw badArgumentType(
      'download',
      'params',
      'mapping from strings to strings/arrays of strings',
      params,
    );
  }
  if (o.filetype !== undefined && o.filetype !== null && typeof o.filetype !== 'string') {
    throw badArgumentType('download', 'filetype', 'string', o.filetype);
  }
  return {
    ...(typeof o.filetype === 'string' ? { filetype: o.filetype } : {}),
    params: params as Record<string, unknown>,
  };
}

export function jobOutputRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx } = face.engine;
  const load = async (request: FastifyRequest) => {
    const output = await findOutput(ctx.db, pkOf(request));
    if (!output) throw NOT_FOUND();
    return output;
  };

  routes.add('POST', '/job-outputs/list', async (request) => {
    allow(request, isAuthenticated(request));
    const spec = parseFilterSpec(FIELDS, request.body);
    const rows = await listUfdlOutputs(ctx.db, ctx.dialect, {
      conditions: spec.conditions,
      order: spec.order,
      includeInactive: spec.includeInactive,
      limit: LIST_LIMIT,
    });
    return rows.map(outputInfo);
  });

  // Outputs are added by the node working the job (/v1/jobs/{pk}/outputs/{name}/{type}).
  routes.add('POST', '/job-outputs/create', async (request) => {
    allow(request, false);
  });

  routes.add('GET', OUTPUT, async (request) => {
    allow(request, isAuthenticated(request));
    return outputInfo(await load(request));
  });

  const readOnly = async (request: FastifyRequest) => {
    allow(request, false);
  };
  routes.add('PUT', OUTPUT, readOnly);
  routes.add('PATCH', OUTPUT, readOnly);

  routes.add('DELETE', OUTPUT, async (request, reply) => {
    allow(request, isAdmin(request));
    const output = await load(request);
    await markOutputRemoved(ctx, output.id);
    return reply.status(204).send();
  });

  routes.add('DELETE', `${OUTPUT}/hard`, async (request) => {
    allow(request, isAdmin(request));
    const output = await load(request);
    return outputInfo(await purgeOutput(ctx, output.id));
  });

  routes.add('DELETE', `${OUTPUT}/reinstate`, async (request) => {
    allow(request, isAdmin(request));
    const output = await load(request);
    const result = await reinstateOutput(ctx, output.id);
    if ('replacedBy' in result) {
      throw new UfdlError(
        406,
        `Job output ${output.id} cannot be reinstated: job ${output.job_id} has a newer output ${result.replacedBy.id} by this name/type (${output.name}/${output.type})`,
      );
    }
    return outputInfo(result.output);
  });

  routes.add('POST', `${OUTPUT}/download`, async (request, reply) => {
    allow(request, isAuthenticated(request));
    const output = await load(request);
    const { filetype, params } = downloadOptions(request.body);
    if (filetype !== undefined && filetype !== storedFormat(output.name)) {
      throw new UfdlError(415, `Unsupported media type "${filetype}" in request.`);
    }
    // The bytes are sent as stored; there is no conversion for parameters to tune.
    if (Object.keys(params).length > 0) {
      throw badArgumentValue(
        'download',
        'params',
        JSON.stringify(params),
        'Job outputs are downloaded as stored and take no parameters.',
      );
    }
    const content = await ctx.blobs.open(ctx.db, output.blob_id);
    return reply
      .header('Content-Type', 'application/data')
      .header('Content-Disposition', attachment(output.name))
      .header('Content-Length', String(content?.size ?? 0))
      .send(content ? content.stream() : Buffer.alloc(0));
  });
}
