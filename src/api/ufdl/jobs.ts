import type { FastifyRequest } from 'fastify';
import { DroverError } from '../../domain/errors.js';
import {
  applyJobAction,
  deleteJob,
  purgeJob,
  undeleteJob,
  updateJobSettings,
} from '../../engine/jobs/job-actions.js';
import { childrenOf } from '../../store/jobs.js';
import { allow, isAdmin, isAuthenticated } from './auth.js';
import { jobJson, loadJob, pkOf, type UfdlFace } from './context.js';
import { illegalPhaseTransition, UfdlError, UfdlFieldErrors } from './errors.js';
import { JOB_FIELDS, parseFilterSpec } from './filter-spec.js';
import { renderJobs } from './job-json.js';
import { listUfdlJobs } from './job-view.js';
import { phaseOf } from './phase-mapping.js';
import type { RouteTable } from './routing.js';

/*
 * /v1/jobs: list, retrieve, description updates, soft and hard delete, reinstate, cancel.
 * UFDL lists everything that matches in one array; Drover caps it (LIST_LIMIT) so one
 * request cannot read a whole farm's history into memory.
 */

export const LIST_LIMIT = 10_000;
export const JOB = '/jobs/:pk(^\\d+)';

export function jobRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx } = face.engine;

  routes.add('POST', '/jobs/list', async (request) => {
    allow(request, isAuthenticated(request));
    const spec = parseFilterSpec(JOB_FIELDS, request.body);
    const rows = await listUfdlJobs(ctx.db, ctx.dialect, {
      conditions: spec.conditions,
      order: spec.order,
      includeInactive: spec.includeInactive,
      limit: LIST_LIMIT,
    });
    return renderJobs(ctx, rows);
  });

  // Jobs are made from templates (create-job); UFDL's create is AllowNone.
  routes.add('POST', '/jobs/create', async (request) => {
    allow(request, false);
  });

  routes.add('GET', JOB, async (request) => {
    allow(request, isAuthenticated(request));
    return jobJson(face, pkOf(request));
  });

  const update = (partial: boolean) => async (request: FastifyRequest) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    await loadJob(face, pk);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const description = body.description;
    if (description === undefined && !partial) {
      throw new UfdlFieldErrors({ description: ['This field is required.'] });
    }
    if (description !== undefined) {
      if (typeof description !== 'string') {
        throw new UfdlFieldErrors({ description: ['Not a valid string.'] });
      }
      await updateJobSettings(ctx, pk, { comment: description });
    }
    return jobJson(face, pk);
  };
  routes.add('PUT', JOB, update(false));
  routes.add('PATCH', JOB, update(true));

  routes.add('DELETE', JOB, async (request, reply) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    await loadJob(face, pk);
    await deleteJob(ctx, pk);
    return reply.status(204).send();
  });

  routes.add('DELETE', `${JOB}/hard`, async (request) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    await loadJob(face, pk);
    // UFDL's children hold their parent by a foreign key that does not cascade: its database
    // refuses to delete a meta-job whose children remain (a 500 there, 406 here).
    const children = await childrenOf(ctx.db, pk);
    if (children.length > 0) {
      throw new UfdlError(
        406,
        `Job ${pk} is the parent of job${children.length > 1 ? 's' : ''} ${children.map((c) => c.id).join(', ')}: hard-delete its children first`,
      );
    }
    await deleteJob(ctx, pk);
    const json = await jobJson(face, pk);
    await purgeJob(ctx, pk);
    return json;
  });

  routes.add('DELETE', `${JOB}/reinstate`, async (request) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    await loadJob(face, pk);
    await undeleteJob(ctx, pk);
    return jobJson(face, pk);
  });

  routes.add('DELETE', `${JOB}/cancel`, async (request) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    const job = await loadJob(face, pk);
    const phase = phaseOf(job);
    if (phase !== 'FINISHED' && phase !== 'CANCELLED' && job.parent !== null) {
      // UFDL cancels a meta-job's children with it, never one child alone.
      throw illegalPhaseTransition(pk, phase, 'cancel', `Job is a child of job ${job.parent}`);
    }
    if (phase !== 'FINISHED' && phase !== 'CANCELLED') {
      try {
        await applyJobAction(ctx, pk, 'cancel');
      } catch (error) {
        // Another request ended the job first: cancelling an ended job is a no-op in UFDL.
        if (!(error instanceof DroverError && error.code === 'ILLEGAL_TRANSITION')) throw error;
      }
    }
    return jobJson(face, pk);
  });
}
