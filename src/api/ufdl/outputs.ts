import type { FastifyInstance } from 'fastify';
import {
  addNamedOutput,
  markOutputRemoved,
} from '../../engine/dispatch/single-task-job-control.js';
import { findOutputByNameAndType, outputsOfCompletedChildren } from '../../store/named-outputs.js';
import { streamBodies, uploadBody } from '../upload-body.js';
import { allow, isAdmin, isAuthenticated } from './auth.js';
import { loadJob, pkOf, type UfdlFace } from './context.js';
import { badName, jobFinished, jobNotStarted, UfdlError } from './errors.js';
import { outputInfo } from './job-json.js';
import { JOB } from './jobs.js';
import { phaseOf } from './phase-mapping.js';
import { RouteTable } from './routing.js';

/*
 * Job outputs named by (name, type): the body of an add is the file itself, announced by
 * `Content-Disposition: attachment; filename=…` as DRF's FileUploadParser requires. A
 * deleted output keeps its name (UFDL's unique constraint ignores deletion), and is still
 * readable by name.
 */

const OUTPUT = `${JOB}/outputs/:name/:type`;

function nameAndType(params: unknown): { name: string; type: string } {
  const p = params as { name: string; type: string };
  return { name: p.name, type: p.type };
}

/** Registers the outputs routes in their own scope, where any body is raw bytes. */
export async function outputRoutes(app: FastifyInstance, face: UfdlFace): Promise<void> {
  const { ctx } = face.engine;
  app.removeAllContentTypeParsers();
  streamBodies(app, '*');
  const routes = new RouteTable();
  const find = async (pk: number, name: string, type: string) => {
    const output = await findOutputByNameAndType(ctx.db, pk, name, type);
    if (output) return output;
    // A meta-job's outputs are its finished children's, named `child:name` (as UFDL copies them).
    const at = name.indexOf(':');
    const copied =
      at > 0
        ? (await outputsOfCompletedChildren(ctx.db, [pk])).findLast(
            (o) =>
              o.child_name === name.slice(0, at) &&
              o.name === name.slice(at + 1) &&
              o.type === type,
          )
        : undefined;
    if (!copied) throw badName(name, `Job has no output by this name/type (${name}/${type})`);
    return { ...copied, job_id: pk, name };
  };

  routes.add(
    'POST',
    OUTPUT,
    {
      handler: async (request) => {
        const pk = pkOf(request);
        const job = await loadJob(face, pk);
        const { name, type } = nameAndType(request.params);
        const owns = request.ufdlNodeId !== undefined && job.node === request.ufdlNodeId;
        allow(request, isAdmin(request) || owns);
        const disposition = request.headers['content-disposition'] ?? '';
        if (!/filename\*?=/i.test(disposition)) {
          throw new UfdlError(
            400,
            'Missing filename. Request should include a Content-Disposition header with a filename parameter.',
          );
        }
        if (job.start_time === null) throw jobNotStarted('add_output');
        if (phaseOf(job) === 'FINISHED') throw jobFinished('add_output');
        const limit = face.engine.settings.uploadLimit;
        // No body at all (no Content-Type either) is an empty file, as DRF reads it.
        const content = request.body === undefined ? new Uint8Array(0) : uploadBody(request, limit);
        const added = await addNamedOutput(ctx, pk, { name, type, content, limit });
        if ('conflict' in added) {
          throw badName(name, `Job already has an output by this name/type (${name}/${type})`);
        }
        return outputInfo(added.output);
      },
    },
    { slash: false },
  );

  routes.add(
    'GET',
    OUTPUT,
    async (request, reply) => {
      allow(request, isAuthenticated(request));
      const pk = pkOf(request);
      await loadJob(face, pk);
      const { name, type } = nameAndType(request.params);
      const output = await find(pk, name, type);
      const content = await ctx.blobs.open(ctx.db, output.blob_id);
      return reply
        .header('Content-Type', 'application/data')
        .header('Content-Length', String(content?.size ?? 0))
        .send(content ? content.stream() : Buffer.alloc(0));
    },
    { slash: false },
  );

  routes.add(
    'DELETE',
    OUTPUT,
    async (request) => {
      allow(request, isAdmin(request));
      const pk = pkOf(request);
      await loadJob(face, pk);
      const { name, type } = nameAndType(request.params);
      const output = await find(pk, name, type);
      // A meta-job's copy is its child's output: deleting it deletes that output.
      const removed = await markOutputRemoved(ctx, output.id);
      return outputInfo({ ...removed, job_id: output.job_id, name: output.name });
    },
    { slash: false },
  );

  routes.add('GET', `${OUTPUT}/info`, async (request) => {
    allow(request, isAuthenticated(request));
    const pk = pkOf(request);
    await loadJob(face, pk);
    const { name, type } = nameAndType(request.params);
    return outputInfo(await find(pk, name, type));
  });

  routes.register(app);
}
