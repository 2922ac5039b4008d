import type { FastifyInstance } from 'fastify';
import type { JobState } from '../../domain/job-state.js';
import { assertMayChangeJob, assertMayRemove } from '../../engine/accounts/permissions.js';
import { deleteJob, purgeJob } from '../../engine/jobs/job-actions.js';
import type { DeadlineContext } from './context.js';
import { badRequest, serverError } from './errors.js';
import { fromDeadlineId, toDeadlineId } from './ids.js';
import { runJobCommand } from './job-commands.js';
import { renderJob } from './job-json.js';
import { jobIdList, jobOf } from './job-lookup.js';
import { allJobs, jobsByIds, jobViews } from './job-views.js';
import { jsonBody, queryFlag, queryOf } from './request-body.js';
import { STATES_OF_NAME } from './state-mapping.js';
import { jobDetails, jobStatistics } from './statistics.js';
import { withStepJobIds } from './step-jobs.js';
import { submitOne } from './submission.js';
import { asBool, asList, isRecord } from './values.js';

const SUCCESS = 'Success';

export function jobRoutes(dc: DeadlineContext) {
  const ctx = dc.engine.ctx;
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/jobs', async (request) => {
      const q = queryOf(request);
      const idsText = q('JobID');
      const deleted = queryFlag(q('Deleted'));

      if (queryFlag(q('Details')) || queryFlag(q('Statistics'))) {
        const details = queryFlag(q('Details'));
        const ids = jobIdList(
          idsText,
          `Need to provide at least one job ID to get ${details ? 'details' : 'statistics'} for.`,
        );
        const jobs = [];
        for (const text of ids) jobs.push(await jobOf(ctx, text, { deleted: true }));
        const views = await jobViews(ctx, jobs);
        if (details) {
          const out: Record<string, unknown> = {};
          for (const view of views) out[toDeadlineId(view.job.id)] = await jobDetails(ctx, view);
          return out;
        }
        const stats = [];
        for (const view of views) stats.push(await jobStatistics(ctx, view));
        return stats.length === 1 ? stats[0] : stats;
      }

      let rows;
      if (deleted) {
        if (idsText !== undefined) {
          const ids = jobIdList(idsText, 'Need to provide at least one deleted job ID.');
          rows = (
            await jobsByIds(
              ctx,
              ids.map((t) => fromDeadlineId(t) ?? -1),
            )
          ).filter((j) => j.deleted_at !== null && j.archived_at === null);
        } else {
          rows = await allJobs(ctx, { deleted: true });
        }
      } else if (idsText !== undefined) {
        const ids = asList(idsText).map((t) => fromDeadlineId(t) ?? -1);
        rows = (await jobsByIds(ctx, ids)).filter(
          (j) => j.deleted_at === null && j.archived_at === null,
        );
      } else {
        const statesText = q('States');
        let states: JobState[] | undefined;
        if (statesText !== undefined) {
          states = asList(statesText).flatMap((name) => {
            const covered = STATES_OF_NAME[name.toLowerCase()];
            if (!covered) {
              throw badRequest(
                `"${name}" is not a job state; use Active, Suspended, Completed, Failed or Pending`,
              );
            }
            return covered;
          });
        }
        rows = await allJobs(ctx, { ...(states ? { states: [...new Set(states)] } : {}) });
      }
      if (queryFlag(q('IdOnly'))) return rows.map((r) => toDeadlineId(r.id));
      return (await jobViews(ctx, rows)).map(renderJob);
    });

    app.post('/api/jobs', async (request) => {
      const body = jsonBody(request);
      const principal = request.principal!;
      if (Array.isArray(body.Jobs)) {
        const dependent = asBool(body.Dependent) === true;
        const ids: number[] = [];
        for (const entry of body.Jobs) {
          if (!isRecord(entry)) throw badRequest('Each entry of Jobs must be a JSON object.');
          const previous = ids.at(-1);
          const chain =
            previous !== undefined && (dependent || asBool(entry.DependsOnPrevious) === true);
          ids.push(await submitOne(dc, principal, entry, chain ? [previous] : []));
        }
        if (asBool(body.IdOnly) === true) return ids.map((id) => ({ _id: toDeadlineId(id) }));
        return (await jobViews(ctx, await jobsByIds(ctx, ids))).map(renderJob);
      }
      const id = await submitOne(dc, principal, body);
      if (asBool(body.IdOnly) === true) return { _id: toDeadlineId(id) };
      const [view] = await jobViews(ctx, await jobsByIds(ctx, [id]));
      return renderJob(view!);
    });

    app.put('/api/jobs', async (request, reply) => {
      const body = jsonBody(request);
      const result = await runJobCommand(dc, request.principal, body);
      if (result === undefined) return reply.type('text/plain; charset=utf-8').send(SUCCESS);
      return result;
    });

    app.delete('/api/jobs', async (request, reply) => {
      const q = queryOf(request);
      const ids = jobIdList(q('JobID'), 'Need to provide at least one job ID to delete.');
      const purge = queryFlag(q('Purge'));
      // Every job is checked before any is deleted: a refusal changes nothing.
      for (const text of ids) {
        const job = await jobOf(ctx, text, { deleted: true, archived: true });
        await assertMayChangeJob(ctx, request.principal, job.id);
        assertMayRemove(request.principal, job, purge ? 'purge' : 'delete');
      }
      for (const text of ids) {
        if (purge) {
          const job = await jobOf(ctx, text, { deleted: true, archived: true });
          if (job.deleted_at === null) {
            throw serverError(`Job ${text} is not deleted; delete it before purging it.`);
          }
          // The engine purges a multi-step job's steps with it.
          await purgeJob(ctx, job.id);
        } else {
          const job = await jobOf(ctx, text);
          for (const id of await withStepJobIds(ctx, job)) await deleteJob(ctx, id);
        }
      }
      return reply.type('text/plain; charset=utf-8').send(SUCCESS);
    });
  };
}
