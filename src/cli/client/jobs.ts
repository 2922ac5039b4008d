import type { Command } from 'commander';
import {
  action,
  clientOf,
  commaList,
  commonFlags,
  optionParser,
  out,
  parseInteger,
  printJson,
  withClientOptions,
} from './command-support.js';
import { fraction, table, timestamp, type Column } from './format.js';
import type { Job } from './resources.js';

/* `drover jobs`: the job list as a table, with the native API's filters. */

interface JobsFlags {
  state?: string[];
  user?: string[];
  type?: string[];
  pool?: string[];
  group?: string[];
  search?: string;
  limit: number;
  offset?: number;
  all?: boolean;
  deleted?: boolean;
  sort?: string;
}

export const JOB_COLUMNS: readonly Column<Job>[] = [
  { header: 'ID', value: (j) => j.id, right: true },
  { header: 'NAME', value: (j) => j.name, max: 40 },
  { header: 'TYPE', value: (j) => j.type.name },
  { header: 'USER', value: (j) => j.user },
  { header: 'STATE', value: (j) => (j.deleted ? `${j.state} (deleted)` : j.state) },
  {
    header: 'PROGRESS',
    // A multi-step job's tasks are its steps' added up; its steps done follow them.
    value: (j) =>
      fraction(j.tasks.completed, j.tasks.total) +
      (j.steps ? `, ${j.steps.completed}/${j.steps.total} steps` : ''),
    right: true,
  },
  { header: 'PRIORITY', value: (j) => j.priority, right: true },
  { header: 'POOL', value: (j) => j.pool || '-' },
  { header: 'SUBMITTED', value: (j) => timestamp(j.createdAt) },
];

export function registerJobsCommand(program: Command): void {
  withClientOptions(
    program
      .command('jobs')
      .summary('list jobs')
      .description('List jobs, newest first, as a table (or --json).'),
  )
    .option('--state <states>', 'only these states (comma list: queued,running,…)', commaList)
    .option('--user <names>', 'only jobs of these users (comma list)', commaList)
    .option('--type <names>', 'only jobs of these job types (comma list)', commaList)
    .option('--pool <names>', 'only jobs in these pools (comma list)', commaList)
    .option('--group <names>', 'only jobs in these groups (comma list)', commaList)
    .option('--search <text>', 'only jobs whose name holds this text')
    .option(
      '--limit <n>',
      'show at most n jobs (1-1000)',
      optionParser(parseInteger('--limit', 1)),
      50,
    )
    .option('--offset <n>', 'skip the first n jobs', optionParser(parseInteger('--offset', 0)))
    .option('--all', 'include deleted jobs')
    .option('--deleted', 'only deleted jobs')
    .option('--sort <fields>', "sort by fields, '-' for descending, e.g. -priority,id")
    .action(
      action(async (flags: JobsFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const page = await client.call(
          client.api.get('/api/v1/jobs', {
            params: {
              query: {
                state: flags.state?.join(','),
                user: flags.user?.join(','),
                type: flags.type?.join(','),
                pool: flags.pool?.join(','),
                group: flags.group?.join(','),
                q: flags.search,
                limit: Math.min(flags.limit, 1000),
                offset: flags.offset,
                deleted: flags.deleted ? 'only' : flags.all ? 'include' : undefined,
                sort: flags.sort,
              },
            },
          }),
        );
        if (common.json) return printJson(page.items);
        if (page.items.length === 0) {
          out(
            page.total === 0
              ? 'no jobs\n'
              : `no jobs past offset ${page.offset} (${page.total} in all)\n`,
          );
          return;
        }
        out(table(JOB_COLUMNS, page.items));
        const shown = page.offset + page.items.length;
        if (page.offset > 0 || shown < page.total) {
          out(
            `jobs ${page.offset + 1}-${shown} of ${page.total}; see more with --limit or --offset\n`,
          );
        }
      }),
    );
}
