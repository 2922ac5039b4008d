import { basename } from 'node:path';
import type { Principal } from '../../engine/accounts/accounts.js';
import { submitJob } from '../../engine/jobs/job-submission.js';
import type { DeadlineContext } from './context.js';
import { badRequest } from './errors.js';
import { parseJobInfo } from './job-info.js';
import { notificationEmailsOf, watchJobByEmail } from './notification-emails.js';
import { jobTypeForPlugin, pluginParameters } from './plugins.js';
import { asString, isRecord } from './values.js';

/*
 * POST /api/jobs: one job (JobInfo, PluginInfo, AuxFiles), or several (Jobs, Dependent).
 * Each job is its own transaction, as each Deadline submission is its own document.
 */

export interface OneJob {
  JobInfo?: unknown;
  PluginInfo?: unknown;
  AuxFiles?: unknown;
}

export async function submitOne(
  dc: DeadlineContext,
  principal: Principal,
  body: OneJob,
  extraDependencies: number[] = [],
): Promise<number> {
  if (!isRecord(body.JobInfo) || !isRecord(body.PluginInfo) || body.AuxFiles === undefined) {
    throw badRequest(
      'Missing one or more of the mandatory keys JobInfo, PluginInfo (JSON objects) and AuxFiles (a list, may be empty).',
    );
  }
  const ctx = dc.engine.ctx;
  const aux = (Array.isArray(body.AuxFiles) ? body.AuxFiles : [body.AuxFiles])
    .map((a) => asString(a) ?? '')
    .filter((a) => a !== '')
    // Only the names are kept: the files themselves are never read from the client's paths.
    .map((a) => basename(a.replace(/\\/g, '/')));
  const submission = parseJobInfo(body.JobInfo, body.PluginInfo, aux);
  const type = await jobTypeForPlugin(ctx, submission.plugin);
  const parameters = pluginParameters(type, body.PluginInfo);

  const user = submission.spec.user ?? principal.name;
  if (user !== principal.name && principal.role !== 'admin') {
    throw badRequest(`only admins may submit jobs for another user (UserName ${user})`);
  }
  const dependencies = [...(submission.spec.dependencies ?? []), ...extraDependencies];
  const emails = notificationEmailsOf(dc, body.JobInfo);
  const jobId = await submitJob(ctx, {
    ...submission.spec,
    ...(dependencies.length > 0 ? { dependencies } : {}),
    type: type.name,
    user,
    parameters,
    dialect: submission.dialect,
  });
  await watchJobByEmail(dc, principal, jobId, emails);
  return jobId;
}
