import type { Command } from 'commander';
import type { paths } from '../../client/openapi-types.js';
import { ApiError, type ApiClient } from './api-client.js';
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
 * `drover suspend|resume|requeue|cancel|pend|release|delete|undelete|purge|protect|unprotect ID…`: one action
 * on several jobs. Each job is reported on its own line; the exit status is 1 when any failed.
 */

interface JobActionSpec {
  name: string;
  summary: string;
  /** Past tense for the report line. */
  done: string;
  run(client: ApiClient, id: number): Promise<Job | undefined>;
}

const protect =
  (value: boolean) =>
  (client: ApiClient, id: number): Promise<Job> =>
    client.call(
      client.api.patch('/api/v1/jobs/{id}', {
        params: { path: { id } },
        body: { protected: value },
      }),
    );

type Verb = paths['/api/v1/jobs/{id}/{action}']['post']['parameters']['path']['action'];

const post =
  (action: Verb) =>
  (client: ApiClient, id: number): Promise<Job> =>
    client.call(
      client.api.post('/api/v1/jobs/{id}/{action}', { params: { path: { id, action } } }),
    );

export const JOB_ACTION_COMMANDS: readonly JobActionSpec[] = [
  {
    name: 'suspend',
    summary: 'suspend jobs (running tasks are stopped)',
    done: 'suspended',
    run: post('suspend'),
  },
  { name: 'resume', summary: 'resume suspended jobs', done: 'resumed', run: post('resume') },
  {
    name: 'requeue',
    summary: 'queue jobs again (running tasks are stopped and rerun)',
    done: 'requeued',
    run: post('requeue'),
  },
  {
    name: 'cancel',
    summary: 'cancel jobs (running tasks are stopped)',
    done: 'canceled',
    run: post('cancel'),
  },
  { name: 'pend', summary: 'hold queued jobs as pending', done: 'pended', run: post('pend') },
  {
    name: 'release',
    summary: 'release pending jobs to the queue',
    done: 'released',
    run: post('release'),
  },
  {
    name: 'delete',
    summary: 'delete jobs (undelete restores them)',
    done: 'deleted',
    run: async (client, id) => {
      await client.call(client.api.delete('/api/v1/jobs/{id}', { params: { path: { id } } }));
      return undefined;
    },
  },
  { name: 'undelete', summary: 'restore deleted jobs', done: 'restored', run: post('undelete') },
  {
    name: 'purge',
    summary: 'remove deleted jobs for good',
    done: 'purged',
    run: async (client, id) => {
      await client.call(
        client.api.delete('/api/v1/jobs/{id}', {
          params: { path: { id }, query: { purge: true } },
        }),
      );
      return undefined;
    },
  },
  {
    name: 'protect',
    summary: 'let only their owner or an admin delete, purge or archive jobs',
    done: 'protected',
    run: protect(true),
  },
  {
    name: 'unprotect',
    summary: 'let whoever may change jobs delete them again',
    done: 'unprotected',
    run: protect(false),
  },
];

type Result =
  | { id: number; ok: true; job?: Job }
  | { id: number; ok: false; error: { code: string; message: string } };

/** The server's message, naming the job when the message does not already. */
const failure = (id: number, message: string): string =>
  new RegExp(`\\bjob ${id}\\b`).test(message) ? message : `job ${id}: ${message}`;

export function registerJobActionCommands(program: Command): void {
  for (const spec of JOB_ACTION_COMMANDS) {
    withClientOptions(
      program
        .command(spec.name)
        .summary(spec.summary)
        .description(
          `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}; exits 1 if any job could not be ${spec.done}.`,
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
            const job = await spec.run(client, id);
            results.push({ id, ok: true, ...(job ? { job } : {}) });
            if (!common.json) out(`job ${id} ${spec.done}${job ? ` (${job.state})` : ''}\n`);
          } catch (error) {
            // Only the server's refusals are per job; an unreachable server stops here.
            if (!(error instanceof ApiError)) throw error;
            results.push({ id, ok: false, error: { code: error.code, message: error.message } });
            if (!common.json) err(`drover: ${failure(id, error.message)}\n`);
          }
        }
        if (common.json) printJson(results);
        return results.every((r) => r.ok) ? 0 : 1;
      }),
    );
  }
}
