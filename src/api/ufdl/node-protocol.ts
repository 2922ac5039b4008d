import type { FastifyRequest } from 'fastify';
import {
  claimSingleTaskJob,
  resetFailedJob,
  withdrawJobWork,
} from '../../engine/dispatch/single-task-job-control.js';
import {
  completeExecution,
  failReportedExecution,
  releaseExecution,
  startExecution,
} from '../../engine/executions/execution-reports.js';
import { reportProgress } from '../../engine/executions/progress-reports.js';
import { allow, isAdmin } from './auth.js';
import { currentJobOf, jobJson, loadJob, objectBody, pkOf, type UfdlFace } from './context.js';
import {
  illegalPhaseTransition,
  jobAcquired,
  NOT_FOUND,
  nodeAlreadyWorking,
  UfdlError,
} from './errors.js';
import type { UfdlJobViewRow } from './job-view.js';
import { JOB } from './jobs.js';
import { phaseOf } from './phase-mapping.js';
import type { RouteTable } from './routing.js';

/*
 * UFDL's node protocol, with its verbs: acquire GET; release, reset, abort DELETE; start,
 * progress/{p}, finish POST. The node is the `Node-Id` header; the rules (406 for an illegal
 * transition, node-ownership permissions) are UFDL's (reference §4); the moves are the
 * engine's (phase-mapping.ts says which). Progress, start and finish also extend the lease.
 */

/** Progress as Python's str() writes a float (0.5, 1.0, 1e-05) or an int (0, 1); else 404. */
const PROGRESS = /^\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$/;

/** Details forwarded to watchers are capped so an event still fits one NOTIFY. */
const MAX_DETAILS_CHARS = 4000;

function owns(request: FastifyRequest, job: UfdlJobViewRow): boolean {
  return request.ufdlNodeId !== undefined && job.node === request.ufdlNodeId;
}

export function nodeProtocolRoutes(face: UfdlFace, routes: RouteTable): void {
  const { ctx, settings } = face.engine;
  const illegal = (job: UfdlJobViewRow, transition: string, reason: string) =>
    illegalPhaseTransition(job.pk, phaseOf(job), transition, reason);

  routes.add('GET', `${JOB}/acquire`, async (request) => {
    const pk = pkOf(request);
    const job = await loadJob(face, pk);
    const nodeId = request.ufdlNodeId;
    allow(request, nodeId !== undefined && job.workable_template !== null);
    const result = await claimSingleTaskJob(ctx, settings, pk, nodeId!);
    if (result.kind === 'held-by-other') throw jobAcquired(pk);
    if (result.kind === 'refused') throw illegal(job, 'acquire', result.reason);
    return jobJson(face, pk);
  });

  routes.add('DELETE', `${JOB}/release`, async (request) => {
    const pk = pkOf(request);
    const job = await loadJob(face, pk);
    const nodeId = request.ufdlNodeId;
    const current = nodeId === undefined ? null : await currentJobOf(face, nodeId);
    // UFDL's reset keeps the node, Drover's frees the job; the node that last worked it may
    // still release it (a no-op), as the job launcher does right after a reset.
    const lastWorker = nodeId !== undefined && job.execution_node === nodeId;
    allow(request, owns(request, job) || (current !== null && current === pk) || lastWorker);
    if (current === pk) {
      throw illegal(job, 'release', 'The node is working on the job; finish it first');
    }
    const phase = phaseOf(job);
    if (phase !== 'CREATED' && phase !== 'ERRORED') {
      throw illegal(job, 'release', 'Only a job that is not started, or errored, can be released');
    }
    if (job.execution_state === 'ACQUIRED' && job.execution_node === nodeId) {
      await releaseExecution(ctx, job.execution_id!, nodeId);
    }
    return jobJson(face, pk);
  });

  routes.add('POST', `${JOB}/start`, async (request) => {
    const pk = pkOf(request);
    objectBody(request, { send_notification: 'string' });
    const job = await loadJob(face, pk);
    allow(request, owns(request, job));
    const nodeId = request.ufdlNodeId!;
    if ((await currentJobOf(face, nodeId)) !== null) throw nodeAlreadyWorking();
    if (phaseOf(job) !== 'CREATED') throw illegal(job, 'start', 'Job has already been started');
    await startExecution(ctx, settings, job.execution_id!, nodeId);
    return jobJson(face, pk);
  });

  routes.add('POST', `${JOB}/progress/:progress`, async (request) => {
    const pk = pkOf(request);
    const text = (request.params as { progress: string }).progress;
    if (!PROGRESS.test(text)) throw NOT_FOUND();
    const progress = Number(text);
    const job = await loadJob(face, pk);
    allow(request, owns(request, job));
    const nodeId = request.ufdlNodeId!;
    if ((await currentJobOf(face, nodeId)) !== pk) {
      throw illegal(job, 'progress', 'The node is not working on the job');
    }
    if (phaseOf(job) !== 'STARTED') throw illegal(job, 'progress', 'Job is not started');
    if (!(progress >= 0 && progress <= 1)) {
      throw new UfdlError(400, `Bad argument value for 'progress': ${progress} is not in [0, 1]`);
    }
    const body = request.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UfdlError(400, 'Unable to parse JSON: the body must be a JSON object');
    }
    let details = body as Record<string, unknown>;
    if (JSON.stringify(details).length > MAX_DETAILS_CHARS) {
      details = { truncated: true, reason: `more than ${MAX_DETAILS_CHARS} characters` };
    }
    await reportProgress(ctx, settings, job.execution_id!, nodeId, progress * 100, details);
    return jobJson(face, pk);
  });

  routes.add('POST', `${JOB}/finish`, async (request) => {
    const pk = pkOf(request);
    const body = objectBody(request, { success: 'boolean', send_notification: 'string' });
    if (body.error !== undefined && typeof body.error !== 'string') {
      throw new UfdlError(
        400,
        `Unable to parse JSON: ${JSON.stringify(body.error)} is not of type 'string'`,
      );
    }
    const job = await loadJob(face, pk);
    const nodeId = request.ufdlNodeId;
    const working = job.execution_state === 'RUNNING' && job.execution_node === nodeId;
    allow(
      request,
      nodeId !== undefined && (owns(request, job) || working || job.execution_node === nodeId),
    );
    if (working) {
      if (typeof body.error === 'string') {
        await failReportedExecution(ctx, job.execution_id!, nodeId, {
          category: 'ALGORITHM',
          message: body.error,
        });
      } else {
        await completeExecution(ctx, settings, job.execution_id!, nodeId);
      }
      return jobJson(face, pk);
    }
    const phase = phaseOf(job);
    // UFDL: a node that finishes a job taken from it (cancelled, aborted) is told nothing.
    if (phase === 'CANCELLED' || !owns(request, job)) return jobJson(face, pk);
    throw illegal(
      job,
      'finish',
      phase === 'CREATED' ? 'Job has not been started' : 'Job is not being worked',
    );
  });

  routes.add('DELETE', `${JOB}/reset`, async (request) => {
    const pk = pkOf(request);
    const job = await loadJob(face, pk);
    allow(request, owns(request, job));
    if (phaseOf(job) !== 'ERRORED') throw illegal(job, 'reset', 'Only an errored job can be reset');
    await resetFailedJob(ctx, pk);
    return jobJson(face, pk);
  });

  routes.add('DELETE', `${JOB}/abort`, async (request) => {
    allow(request, isAdmin(request));
    const pk = pkOf(request);
    const job = await loadJob(face, pk);
    const phase = phaseOf(job);
    if (phase === 'FINISHED' || phase === 'CANCELLED') {
      throw illegal(job, 'abort', 'A finished or cancelled job cannot be aborted');
    }
    await withdrawJobWork(ctx, pk);
    return jobJson(face, pk);
  });
}
