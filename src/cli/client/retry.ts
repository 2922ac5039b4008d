import type { Command } from 'commander';
import { ApiError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  err,
  out,
  parseIds,
  printJson,
  withClientOptions,
} from './command-support.js';
import type { Job } from './resources.js';

/*
 * `drover retry JOB…`: the failed tasks of each job back in the queue with their tries
 * forgotten, through the native job action `resume-failed` (Deadline's "resume failed
 * tasks"). A job that is not FAILED is refused by the server, whose message is printed.
 */

type Result =
  | { id: number; ok: true; retried: number; job: Job }
  | { id: number; ok: false; error: { code: string; message: string } };

const named = (id: number, message: string): string =>
  new RegExp(`\\bjob ${id}\\b`).test(message) ? message : `job ${id}: ${message}`;

export function registerRetryCommand(program: Command): void {
  withClientOptions(
    program
      .command('retry')
      .summary('requeue the failed tasks of jobs')
      .description(
        'Put the failed tasks of each job back in the queue, their tries forgotten; the job runs again. Exits 1 if any job could not be retried.',
      )
      .argument('<ids...>', 'job ids'),
  ).action(
    action(async (idTexts: string[], _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const ids = parseIds(idTexts);
      const results: Result[] = [];
      for (const id of ids) {
        try {
          const before = await client.get<Job>(`/jobs/${id}`);
          const job = await client.post<Job>(`/jobs/${id}/resume-failed`);
          const retried = before.tasks.failed - job.tasks.failed;
          results.push({ id, ok: true, retried, job });
          if (!common.json) {
            out(
              `job ${id}: ${retried} failed ${retried === 1 ? 'task' : 'tasks'} requeued (${job.state})\n`,
            );
          }
        } catch (error) {
          // Only the server's refusals are per job; an unreachable server stops here.
          if (!(error instanceof ApiError)) throw error;
          results.push({ id, ok: false, error: { code: error.code, message: error.message } });
          if (!common.json) err(`drover: ${named(id, error.message)}\n`);
        }
      }
      if (common.json) printJson(results);
      return results.every((r) => r.ok) ? 0 : 1;
    }),
  );
}
