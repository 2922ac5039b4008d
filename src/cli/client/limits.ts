import type { Command } from 'commander';
import { CliError } from './api-client.js';
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
import { table, type Column } from './format.js';
import type { Limit } from './resources.js';

/*
 * `drover limit list|show|create|update|delete`: limits (floating licences) over
 * /api/v1/limits (docs/scheduling.md). Jobs name them with `submit --limit` and
 * `modify --limits`.
 */

const COLUMNS: readonly Column<Limit>[] = [
  { header: 'NAME', value: (l) => l.name, max: 40 },
  { header: 'IN USE', value: (l) => `${l.inUse}/${l.maxCount}`, right: true },
  { header: 'PER', value: (l) => l.per },
  {
    header: 'NODES',
    value: (l) =>
      l.nodeList.mode === 'NONE'
        ? 'any'
        : `${l.nodeList.mode.toLowerCase()}: ${l.nodeList.nodes.join(',')}`,
    max: 40,
  },
  { header: 'DESCRIPTION', value: (l) => l.description || '-', max: 40 },
];

interface LimitFlags {
  max?: number;
  per?: string;
  allow?: string[];
  deny?: string[];
  description?: string;
}

const per = (text: string): string => {
  const value = text.trim().toUpperCase();
  if (value !== 'TASK' && value !== 'MACHINE') throw new CliError('--per is task or machine');
  return value;
};

/** The body of a create or update from its flags (`--allow none` clears the list). */
function bodyOf(flags: LimitFlags): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (flags.max !== undefined) body.maxCount = flags.max;
  if (flags.per !== undefined) body.per = flags.per;
  if (flags.description !== undefined) body.description = flags.description;
  const none = (names: string[]) => (names.length === 1 && names[0] === 'none' ? [] : names);
  if (flags.allow !== undefined) body.allowList = none(flags.allow);
  if (flags.deny !== undefined) body.denyList = none(flags.deny);
  return body;
}

function describe(limit: Limit): string {
  const nodes =
    limit.nodeList.mode === 'NONE'
      ? 'any node'
      : `${limit.nodeList.mode === 'ALLOW' ? 'only' : 'not'} ${limit.nodeList.nodes.join(', ')}`;
  return (
    `limit ${limit.name}: ${limit.inUse}/${limit.maxCount} in use, per ${limit.per.toLowerCase()}, ${nodes}` +
    (limit.description ? `\n  ${limit.description}` : '') +
    '\n'
  );
}

function withLimitOptions(command: Command): Command {
  return command
    .option(
      '--per <task|machine>',
      'each running task takes one (task), or each node (machine)',
      optionParser(per),
    )
    .option('--allow <nodes>', 'only these nodes may use it (comma list; none to clear)', commaList)
    .option('--deny <nodes>', 'these nodes may not use it (comma list; none to clear)', commaList)
    .option('--description <text>', 'what it stands for');
}

export function registerLimitCommand(program: Command): void {
  const limit = program
    .command('limit')
    .summary('manage limits (floating licences)')
    .description(
      'Limits hold back the tasks of the jobs naming them while their count is in use: ' +
        'floating licences, or any shared resource (docs/scheduling.md).',
    );

  withClientOptions(limit.command('list').description('list the limits and their use')).action(
    action(async (_flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const { items } = await clientOf(common).get<{ items: Limit[] }>('/limits', { limit: 1000 });
      if (common.json) return printJson(items);
      out(
        items.length ? table(COLUMNS, items) : 'no limits: make one with `drover limit create`\n',
      );
    }),
  );

  withClientOptions(
    limit.command('show').description('one limit and its use').argument('<name>', 'limit name'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const found = await clientOf(common).get<Limit>(`/limits/${encodeURIComponent(name)}`);
      if (common.json) return printJson(found);
      out(describe(found));
    }),
  );

  withClientOptions(
    withLimitOptions(
      limit
        .command('create')
        .description('make a limit (admins)')
        .argument('<name>', 'limit name')
        .requiredOption('--max <n>', 'how many at once', optionParser(parseInteger('--max', 0))),
    ),
  ).action(
    action(async (name: string, flags: LimitFlags, command: Command) => {
      const common = commonFlags(command);
      const made = await clientOf(common).post<Limit>('/limits', { name, ...bodyOf(flags) });
      if (common.json) return printJson(made);
      out(describe(made));
    }),
  );

  withClientOptions(
    withLimitOptions(
      limit
        .command('update')
        .description('change a limit (admins)')
        .argument('<name>', 'limit name')
        .option('--max <n>', 'how many at once', optionParser(parseInteger('--max', 0))),
    ),
  ).action(
    action(async (name: string, flags: LimitFlags, command: Command) => {
      const common = commonFlags(command);
      const body = bodyOf(flags);
      if (Object.keys(body).length === 0) {
        throw new CliError('give at least one of --max, --per, --allow, --deny, --description');
      }
      const changed = await clientOf(common).request<Limit>(
        'PATCH',
        `/limits/${encodeURIComponent(name)}`,
        { body },
      );
      if (common.json) return printJson(changed);
      out(describe(changed));
    }),
  );

  withClientOptions(
    limit
      .command('delete')
      .description('delete a limit (admins); jobs naming it wait until it is made again')
      .argument('<name>', 'limit name'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      await clientOf(common).request('DELETE', `/limits/${encodeURIComponent(name)}`);
      if (common.json) return printJson({ deleted: name });
      out(`limit ${name} deleted\n`);
    }),
  );
}
