import { checkEmailAddress } from '../../domain/notifications.js';
import type { Principal } from '../../engine/accounts/accounts.js';
import { createNotificationRule } from '../../engine/notifications/notification-rules.js';
import type { DeadlineContext } from './context.js';
import { badRequest } from './errors.js';
import { asBool, asList, keyed } from './values.js';

/*
 * Deadline's job completion notification (JobInfo `NotificationEmails`, with
 * `OverrideNotificationMethod` and `EmailNotification`) as Drover rules: each address gets
 * an email rule on this one job's `job.completed`, owned by the job's user, deleted with
 * the job. `NotificationTargets` names Deadline users whose own notification settings
 * decide; Drover users keep their own rules instead, so it is shown back (NotUser) and
 * nothing more. Popups have no Drover counterpart.
 */

/** At most this many addresses per job: each is a rule. */
export const MAX_NOTIFICATION_EMAILS = 10;

/**
 * The addresses to tell when the job completes, checked before the job is made: an
 * address that is not one, too many, or any at all on a server without SMTP is a 400.
 * Override on with email off means the submitter asked for no email.
 */
export function notificationEmailsOf(dc: DeadlineContext, jobInfo: Record<string, unknown>) {
  const get = keyed(jobInfo);
  const emails = asList(get('NotificationEmails'));
  if (emails.length === 0) return [];
  if (asBool(get('OverrideNotificationMethod')) && asBool(get('EmailNotification')) === false) {
    return [];
  }
  if (!dc.engine.emailConfigured) {
    throw badRequest(
      'NotificationEmails needs an SMTP server, and this Drover has none: start it with --smtp-url, or leave NotificationEmails out.',
    );
  }
  if (emails.length > MAX_NOTIFICATION_EMAILS) {
    throw badRequest(
      `NotificationEmails lists ${emails.length} addresses; at most ${MAX_NOTIFICATION_EMAILS} are taken.`,
    );
  }
  for (const email of emails) {
    try {
      checkEmailAddress(email);
    } catch {
      throw badRequest(`NotificationEmails: "${email.slice(0, 100)}" is not an email address.`);
    }
  }
  return [...new Set(emails)];
}

/** Makes the job's rules once it exists: one email rule per address. */
export async function watchJobByEmail(
  dc: DeadlineContext,
  principal: Principal,
  jobId: number,
  emails: readonly string[],
): Promise<void> {
  for (const email of emails) {
    await createNotificationRule(
      dc.engine.ctx,
      principal,
      {
        name: 'Deadline NotificationEmails',
        events: ['job.completed'],
        channel: 'email',
        target: email,
        jobId,
      },
      { emailConfigured: dc.engine.emailConfigured },
    );
  }
}
