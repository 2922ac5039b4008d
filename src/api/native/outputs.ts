import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import { addOutput, jobOutputs, outputContent } from '../../engine/outputs/outputs.js';
import type { OutputRow } from '../../store/outputs.js';
import { streamBodies, uploadBody } from '../upload-body.js';
import { pageOfList } from './page-links.js';
import { iso } from './representations.js';
import { errorResponses, IdParams, pageOf, pageQuery } from './schemas.js';

export const Output = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.Integer(),
    executionId: Type.Union([Type.Integer(), Type.Null()]),
    name: Type.String({ description: 'Path relative to the output directory, e.g. a/b.png' }),
    type: Type.String({ description: 'Media type' }),
    size: Type.Integer({ description: 'Bytes' }),
    sha256: Type.String(),
    createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Output' },
);

export function outputJson(row: OutputRow) {
  return {
    id: row.id,
    jobId: row.job_id,
    executionId: row.execution_id,
    name: row.name,
    type: row.type,
    size: row.size,
    sha256: row.sha256,
    createdAt: iso(row.created_at),
  };
}

/** RFC 6266: a plain-ASCII fallback and the exact name in UTF-8. */
function contentDisposition(name: string): string {
  const base = name.split('/').at(-1) ?? 'output';
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

export function outputRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    // Raw bytes, streamed; the parser lives in this plugin only, so other routes still
    // refuse them.
    streamBodies(app, 'application/octet-stream');

    app.post(
      '/executions/:id/outputs',
      {
        schema: {
          tags: ['outputs'],
          summary: 'Upload one output file of a live execution (raw body, by the node holding it)',
          params: IdParams,
          querystring: Type.Object({
            nodeId: Type.Integer({ minimum: 1, maximum: MAX_ID }),
            name: Type.String({ minLength: 1 }),
            type: Type.Optional(Type.String({ description: 'Media type of the file' })),
          }),
          response: { 201: Output, ...errorResponses },
        },
      },
      async (request, reply) => {
        const limit = engine.settings.uploadLimit;
        const content = uploadBody(request, limit);
        const { nodeId, name, type } = request.query;
        const row = await addOutput(ctx, request.params.id, nodeId, {
          name,
          content,
          limit,
          ...(type !== undefined ? { type } : {}),
        });
        void reply.status(201).header('Location', `/api/v1/outputs/${row.id}/content`);
        return outputJson(row);
      },
    );

    app.get(
      '/jobs/:id/outputs',
      {
        schema: {
          tags: ['outputs'],
          summary: "A job's outputs (not deleted), by name",
          params: IdParams,
          querystring: pageQuery(100),
          response: { 200: pageOf(Output), ...errorResponses },
        },
      },
      async (request) =>
        pageOfList(
          request,
          (await jobOutputs(ctx, request.params.id)).map(outputJson),
          request.query,
          100,
        ),
    );

    app.get(
      '/outputs/:id/content',
      {
        schema: {
          tags: ['outputs'],
          summary: 'The bytes of an output',
          params: IdParams,
        },
      },
      async (request, reply) => {
        const { output, content } = await outputContent(ctx, request.params.id);
        return reply
          .header('Content-Type', output.type)
          .header('Content-Disposition', contentDisposition(output.name))
          .header('Content-Length', String(content.size))
          .send(content.stream());
      },
    );
  };
}
