import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { inTransaction } from '../../engine/context.js';
import type { Engine } from '../../engine/engine.js';
import { registerFile, type FileTimes } from '../../engine/outputs/files.js';
import { findBatches, insertBatch, listBatches } from '../../store/events-and-batches.js';
import { findFile, listFiles } from '../../store/files.js';
import { findErrorById, listErrorsPage } from '../../store/job-type-errors.js';
import { findNode, listNodes } from '../../store/nodes.js';
import type { NodeRow } from '../../store/schema.js';
import { paginate } from './pagination.js';
import { badParameter, notFoundError, Params, scaleTime as time } from './params.js';
import { batchJson, errorDetails, fileJson } from './serializers.js';
import { ID } from './v6-jobs.js';

/*
 * What Scale's job services refer to: errors (built-in and of job types), nodes, batches,
 * and files. Files and batches are registered here so that Data JSON and batch filters have
 * something to name; Scale creates them through ingest and recipes, which Drover lacks.
 */

function nodeJson(n: NodeRow) {
  const ready = n.state === 'ONLINE' && n.enabled === 1;
  const state = ready ? 'READY' : n.state === 'ONLINE' ? 'PAUSED' : 'OFFLINE';
  return {
    id: n.id,
    hostname: n.hostname,
    agent_id: n.name,
    is_active: true,
    is_paused: n.enabled !== 1,
    pause_reason: null,
    deprecated: null,
    state: { name: state, title: state.charAt(0) + state.slice(1).toLowerCase() },
    resources: { total: { cpus: n.cpus, mem: n.mem, disk: n.disk, gpus: n.gpus } },
    created: time(n.created_at),
    last_modified: time(n.last_modified),
  };
}

export function v6CatalogRoutes(engine: Engine): FastifyPluginAsync {
  const { ctx } = engine;
  const params = (request: FastifyRequest) => new Params(request, ctx.clock());
  const idOf = (request: FastifyRequest) => Number((request.params as { id: string }).id);
  return async (app) => {
    app.get('/errors/', async (request) => {
      const p = params(request);
      const isBuiltin = p.bool('is_builtin');
      const jobTypeName = p.string('job_type_name');
      const name = p.string('name');
      const categories = p.strings('category');
      return paginate(
        request,
        (page) =>
          listErrorsPage(
            ctx.db,
            {
              ...(isBuiltin !== undefined ? { isBuiltin } : {}),
              ...(jobTypeName !== undefined ? { jobTypeName } : {}),
              ...(name !== undefined ? { name } : {}),
              ...(categories ? { categories } : {}),
            },
            page,
          ),
        (rows) => rows.map(errorDetails),
      );
    });
    app.get(`/errors/${ID}/`, async (request) => {
      const error = await findErrorById(ctx.db, idOf(request));
      if (!error) throw notFoundError();
      return errorDetails(error);
    });

    app.get('/nodes/', async (request) =>
      paginate(
        request,
        (page) => listNodes(ctx.db, page),
        (rows) => rows.map(nodeJson),
      ),
    );
    app.get(`/nodes/${ID}/`, async (request) => {
      const node = await findNode(ctx.db, idOf(request));
      if (!node) throw notFoundError();
      return nodeJson(node);
    });

    app.get('/batches/', async (request) =>
      paginate(
        request,
        (page) => listBatches(ctx.db, page),
        (rows) => rows.map((b) => batchJson(b)),
      ),
    );
    app.post('/batches/', async (request, reply) => {
      const p = params(request);
      const title = p.requiredString('title');
      const description = p.string('description') ?? '';
      const id = await inTransaction(ctx, (tx) =>
        insertBatch(tx, { title, description, created_at: ctx.clock() }),
      );
      const batch = (await findBatches(ctx.db, [id])).get(id);
      return reply.status(201).send(batchJson(batch));
    });
    app.get(`/batches/${ID}/`, async (request) => {
      const batch = (await findBatches(ctx.db, [idOf(request)])).get(idOf(request));
      if (!batch) throw notFoundError();
      return batchJson(batch);
    });

    app.get('/files/', async (request) => {
      const p = params(request);
      const { started, ended } = p.timeRange();
      const jobIds = p.ints('job_id');
      const fileNames = p.strings('file_name');
      return paginate(
        request,
        (page) =>
          listFiles(
            ctx.db,
            {
              ...(jobIds ? { jobIds } : {}),
              ...(fileNames ? { fileNames } : {}),
              ...(started !== undefined ? { modifiedAfter: started } : {}),
              ...(ended !== undefined ? { modifiedBefore: ended } : {}),
            },
            page,
          ),
        (rows) => rows.map((f) => fileJson(f)),
      );
    });
    app.post('/files/', async (request, reply) => {
      const p = params(request);
      const props: Record<string, unknown> = {};
      for (const key of [
        'source_sensor_class',
        'source_sensor',
        'source_collection',
        'source_task',
      ]) {
        const value = p.string(key);
        if (value !== undefined) props[key] = value;
      }
      const times: FileTimes = {};
      for (const [key, field] of [
        ['source_started', 'sourceStarted'],
        ['source_ended', 'sourceEnded'],
        ['data_started', 'dataStarted'],
        ['data_ended', 'dataEnded'],
      ] as const) {
        const ms = p.timestamp(key);
        if (ms !== undefined) times[field] = ms;
      }
      const size = p.int('file_size');
      if (size !== undefined && size < 0) throw badParameter('file_size must be >= 0');
      const mediaType = p.string('media_type');
      const workspace = p.string('workspace');
      const file = await registerFile(ctx, {
        fileName: p.requiredString('file_name'),
        path: p.requiredString('file_path'),
        ...(mediaType !== undefined ? { mediaType } : {}),
        ...(size !== undefined ? { size } : {}),
        ...(workspace !== undefined ? { workspace } : {}),
        times,
        props,
      });
      return reply.status(201).send(fileJson(file));
    });
    app.get(`/files/${ID}/`, async (request) => {
      const file = await findFile(ctx.db, idOf(request));
      if (!file) throw notFoundError();
      return fileJson(file);
    });
  };
}
