import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../domain/errors.js';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import {
  createJobType,
  reviseJobType,
  setJobTypeActive,
} from '../../engine/job-types/job-types.js';
import { getJobType } from '../../engine/queries.js';
import { findRevision, listJobTypes, listRevisions } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { JobType, JobTypeDefinition } from './job-type-schemas.js';
import { nextLink, pageOfList } from './page-links.js';
import { iso, jobTypeJson } from './representations.js';
import { errorResponses, IdParams, pageQuery, pageOf } from './schemas.js';

const Revision = Type.Object({
  revision: Type.Integer(),
  definition: Type.Unknown(),
  manifest: Type.Unknown(),
  createdAt: Type.Union([Type.String(), Type.Null()]),
});

export function jobTypeRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  const withDefinition = async (row: JobTypeRow) => {
    const revision = await findRevision(ctx.db, row.id, row.latest_revision);
    return jobTypeJson(row, revision ? (JSON.parse(revision.definition_json) as unknown) : null);
  };
  return async (app) => {
    app.post(
      '/job-types',
      {
        schema: {
          tags: ['job types'],
          summary: 'Define a job type (revision 1)',
          body: Type.Object(
            {
              name: Type.String({ minLength: 1 }),
              version: Type.Optional(Type.String({ minLength: 1 })),
              title: Type.Optional(Type.String()),
              description: Type.Optional(Type.String()),
              category: Type.Optional(Type.String()),
              definition: JobTypeDefinition,
            },
            { additionalProperties: false },
          ),
          response: { 201: JobType, ...errorResponses },
        },
      },
      async (request, reply) => {
        const row = await createJobType(ctx, request.body);
        void reply.status(201).header('Location', `/api/v1/job-types/${row.id}`);
        return withDefinition(row);
      },
    );

    app.post(
      '/job-types/:id/revisions',
      {
        schema: {
          tags: ['job types'],
          summary: 'Revise a job type; submitted jobs keep their revision',
          params: IdParams,
          body: Type.Object(
            {
              title: Type.Optional(Type.String()),
              description: Type.Optional(Type.String()),
              category: Type.Optional(Type.String()),
              definition: Type.Partial(JobTypeDefinition),
            },
            { additionalProperties: false },
          ),
          response: { 201: JobType, ...errorResponses },
        },
      },
      async (request, reply) => {
        const row = await reviseJobType(ctx, request.params.id, request.body);
        void reply.status(201);
        return withDefinition(row);
      },
    );

    app.patch(
      '/job-types/:id',
      {
        schema: {
          tags: ['job types'],
          summary: 'Deactivate or reactivate a job type',
          description:
            'An inactive job type keeps its jobs and revisions; new jobs of it are refused ' +
            '(every face) until it is active again.',
          params: IdParams,
          body: Type.Object({ active: Type.Boolean() }, { additionalProperties: false }),
          response: { 200: JobType, ...errorResponses },
        },
      },
      async (request) =>
        withDefinition(await setJobTypeActive(ctx, request.params.id, request.body.active)),
    );

    app.get(
      '/job-types',
      {
        schema: {
          tags: ['job types'],
          summary: 'Job types',
          querystring: Type.Intersect([
            pageQuery(100),
            Type.Object({ name: Type.Optional(Type.String()) }),
          ]),
          response: { 200: pageOf(JobType), ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 100;
        const offset = request.query.offset ?? 0;
        const { rows, total } = await listJobTypes(ctx.db, {
          ...(request.query.name ? { name: request.query.name } : {}),
          limit,
          offset,
        });
        return {
          items: await Promise.all(rows.map(withDefinition)),
          total,
          limit,
          offset,
          next: nextLink(request, { count: rows.length, total, limit, offset }),
        };
      },
    );

    app.get(
      '/job-types/:id',
      {
        schema: {
          tags: ['job types'],
          summary: 'One job type',
          params: IdParams,
          response: { 200: JobType, ...errorResponses },
        },
      },
      async (request) => withDefinition(await getJobType(ctx, request.params.id)),
    );

    app.get(
      '/job-types/:id/revisions',
      {
        schema: {
          tags: ['job types'],
          summary: 'The revisions of a job type, oldest first',
          description:
            'The body is the page as an array; a `Link: <…>; rel="next"` header gives the next page, and `X-Total-Count` the number of revisions.',
          params: IdParams,
          querystring: pageQuery(100),
          response: { 200: Type.Array(Revision), ...errorResponses },
        },
      },
      async (request, reply) => {
        await getJobType(ctx, request.params.id);
        const all = await listRevisions(ctx.db, request.params.id);
        const page = pageOfList(request, all, request.query, 100);
        void reply.header('X-Total-Count', String(page.total));
        if (page.next !== null) void reply.header('Link', `<${page.next}>; rel="next"`);
        return page.items.map((r) => ({
          revision: r.revision_num,
          definition: JSON.parse(r.definition_json) as unknown,
          manifest: r.manifest_json === null ? null : (JSON.parse(r.manifest_json) as unknown),
          createdAt: iso(r.created_at),
        }));
      },
    );

    app.get(
      '/job-types/:id/revisions/:revision',
      {
        schema: {
          tags: ['job types'],
          summary: 'One revision of a job type',
          params: Type.Object({
            id: Type.Integer({ minimum: 1, maximum: MAX_ID }),
            revision: Type.Integer({ minimum: 1, maximum: MAX_ID }),
          }),
          response: { 200: Revision, ...errorResponses },
        },
      },
      async (request) => {
        const r = await findRevision(ctx.db, request.params.id, request.params.revision);
        if (!r)
          throw notFound('job type revision', `${request.params.id}/${request.params.revision}`);
        return {
          revision: r.revision_num,
          definition: JSON.parse(r.definition_json) as unknown,
          manifest: r.manifest_json === null ? null : (JSON.parse(r.manifest_json) as unknown),
          createdAt: iso(r.created_at),
        };
      },
    );
  };
}
