import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { saveSeedJobType } from '../../formats/seed/seed-manifests.js';
import { findJobTypeByName, findRevision, listRevisions } from '../../store/job-types.js';
import type { JobTypeRow } from '../../store/schema.js';
import { listJobTypesPage } from './execution-and-type-lists.js';
import { loadJobTypeContext } from './job-context.js';
import { seedDocumentOf } from './job-context.js';
import { paginate } from './pagination.js';
import { badParameter, notFoundError, Params, scaleTime as time } from './params.js';
import { jobTypeBase, revisionDetails } from './serializers.js';
import { prefixOf } from './v6-jobs.js';

/*
 * /v6/job-types/: Seed job types registered, listed and revised. A POST of a manifest whose
 * name and version exist adds a revision (200); a new one is created (201).
 */

export function v6JobTypeRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;

  async function render(types: JobTypeRow[], detailed: boolean) {
    const { latest, unmet } = await loadJobTypeContext(ctx, types);
    return types.map((type) => {
      const revision = latest.get(type.id);
      const document = seedDocumentOf(revision);
      const base = {
        ...jobTypeBase(type, unmet.get(type.id) ?? null, revision),
        max_scheduled: null,
        max_tries: document?.max_tries ?? null,
        revision_num: type.latest_revision,
        docker_image: document?.docker_image ?? null,
        created: time(type.created_at),
        deprecated: type.is_active === 1 ? null : time(type.last_modified),
        paused: type.is_paused === 1 ? time(type.last_modified) : null,
        last_modified: time(type.last_modified),
      };
      if (!detailed) return base;
      return {
        ...base,
        manifest: revision ? revisionDetails(revision, type, null).manifest : null,
        configuration: document?.configuration ?? null,
      };
    });
  }

  async function byNameVersion(request: FastifyRequest) {
    const { name, version } = request.params as { name: string; version: string };
    const type = await findJobTypeByName(ctx.db, name, version);
    if (!type) throw notFoundError();
    return type;
  }

  return async (app) => {
    app.get('/job-types/', async (request) => {
      const p = new Params(request, ctx.clock());
      const names = p.strings('name');
      const isActive = p.bool('is_active');
      const isSystem = p.bool('is_system');
      const ids = p.ints('id');
      return paginate(
        request,
        (page) =>
          listJobTypesPage(
            ctx.db,
            {
              ...(names ? { names } : {}),
              ...(isActive !== undefined ? { isActive } : {}),
              ...(isSystem !== undefined ? { isSystem } : {}),
              ...(ids ? { ids } : {}),
            },
            page,
          ),
        (rows) => render(rows, false),
      );
    });

    app.post('/job-types/', async (request, reply) => {
      const p = new Params(request, ctx.clock());
      const manifest = p.object('manifest');
      if (manifest === undefined) throw badParameter('Missing required parameter: "manifest"');
      const configuration = p.object('configuration');
      const maxTries = p.int('max_tries');
      const iconCode = p.string('icon_code');
      const isPublished = p.bool('is_published');
      const dockerImage = p.string('docker_image');
      const { type, created } = await saveSeedJobType(ctx, {
        manifest,
        ...(configuration !== undefined ? { configuration } : {}),
        ...(maxTries !== undefined ? { maxTries } : {}),
        ...(iconCode !== undefined ? { iconCode } : {}),
        ...(isPublished !== undefined ? { isPublished } : {}),
        ...(dockerImage !== undefined ? { dockerImage } : {}),
      });
      const host = request.headers.host ?? request.hostname;
      void reply
        .status(created ? 201 : 200)
        .header(
          'Location',
          `${request.protocol}://${host}${prefixOf(request)}/job-types/${type.name}/${type.version}/`,
        );
      return (await render([type], true))[0];
    });

    app.get('/job-types/:name/', async (request) => {
      const { name } = request.params as { name: string };
      return paginate(
        request,
        (page) => listJobTypesPage(ctx.db, { names: [name] }, page),
        (rows) => render(rows, false),
      );
    });

    app.get(
      '/job-types/:name/:version/',
      async (request) => (await render([await byNameVersion(request)], true))[0],
    );

    app.get('/job-types/:name/:version/revisions/', async (request) => {
      const type = await byNameVersion(request);
      const all = await listRevisions(ctx.db, type.id);
      all.reverse();
      return paginate(
        request,
        async (page) => ({
          rows: all.slice(page.offset, page.offset + page.limit),
          total: all.length,
        }),
        (rows) =>
          rows.map((r) => ({
            id: r.id,
            job_type: { id: type.id, name: type.name, version: type.version },
            revision_num: r.revision_num,
            docker_image: seedDocumentOf(r)?.docker_image ?? null,
            created: time(r.created_at),
          })),
      );
    });

    app.get('/job-types/:name/:version/revisions/:num(^\\d+)/', async (request) => {
      const type = await byNameVersion(request);
      const num = Number((request.params as { num: string }).num);
      const revision = await findRevision(ctx.db, type.id, num);
      if (!revision) throw notFoundError();
      const { unmet } = await loadJobTypeContext(ctx, [type]);
      return revisionDetails(revision, type, unmet.get(type.id) ?? null);
    });
  };
}
