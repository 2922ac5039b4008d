import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiError, type ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  out,
  printJson,
  withClientOptions,
} from './command-support.js';
import { details, table, timestamp, type Column } from './format.js';
import type { JobType } from './resources.js';

/* `drover types`: the job types; `drover types show NAME` for one with its definition. */

const TYPE_COLUMNS: readonly Column<JobType>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'VERSION', value: (t) => t.version },
  { header: 'TITLE', value: (t) => t.title, max: 40 },
  { header: 'CATEGORY', value: (t) => t.category || '-' },
  { header: 'REVISION', value: (t) => t.revision, right: true },
  { header: 'BUILT-IN', value: (t) => (t.isSystem ? 'yes' : 'no') },
];

/** A job type by name (the newest version when there are several) or by id. */
async function findType(client: ApiClient, text: string): Promise<JobType> {
  if (/^\d+$/.test(text)) {
    return client.call(
      client.api.get('/api/v1/job-types/{id}', { params: { path: { id: Number(text) } } }),
    );
  }
  const page = await client.call(
    client.api.get('/api/v1/job-types', { params: { query: { name: text, limit: 1000 } } }),
  );
  const found = page.items.at(-1);
  if (!found) {
    throw new ApiError(
      404,
      'NOT_FOUND',
      `job type ${text} does not exist; \`drover types\` lists them`,
    );
  }
  return found;
}

export function registerTypesCommand(program: Command): void {
  const types = withClientOptions(
    program
      .command('types')
      .summary('list job types')
      .description('List job types; `types show NAME` shows one.'),
  ).action(
    action(async (_flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const list = await clientOf(common).all<JobType>('/job-types');
      if (common.json) return printJson(list);
      out(list.length ? table(TYPE_COLUMNS, list) : 'no job types\n');
    }),
  );

  withClientOptions(
    types
      .command('show')
      .description('show a job type and its definition')
      .argument('<name>', 'job type name or id'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const type = await findType(clientOf(common), name);
      if (common.json) return printJson(type);
      out(
        details([
          ['Job type', `${type.name} ${type.version}`],
          ['Title', type.title],
          ['Description', type.description || undefined],
          ['Category', type.category || undefined],
          ['Built-in', type.isSystem ? 'yes' : 'no'],
          [
            'Inactive',
            type.active
              ? undefined
              : `yes: takes no new jobs until PATCH /api/v1/job-types/${type.id} {"active": true}`,
          ],
          ['Revision', type.revision],
          ['Id', type.id],
          ['Modified', timestamp(type.lastModified)],
        ]),
      );
      out(
        `\nDefinition\n${YAML.stringify(type.definition, { indent: 2 }).replace(/^/gm, '  ').trimEnd()}\n`,
      );
    }),
  );
}
