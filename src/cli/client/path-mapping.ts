import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  out,
  printJson,
  withClientOptions,
} from './command-support.js';

/*
 * `drover pool path-mapping show|add|set|remove|clear POOL`: a pool's path mapping rules over
 * /api/v1/pools/{name}/path-mapping-rules (docs/workers.md#path-mapping). `show --json`
 * prints a pathmapping-1.0 document, which `set --file` takes back, and so does a worker's
 * --path-mapping-rules.
 */

interface Rule {
  source_path_format: string;
  source_path: string;
  destination_path: string;
}
interface RulesDocument {
  version: string;
  path_mapping_rules: Rule[];
}

const path = (pool: string) => `/pools/${encodeURIComponent(pool)}/path-mapping-rules`;

function describe(pool: string, doc: RulesDocument): string {
  if (doc.path_mapping_rules.length === 0) return `pool ${pool} has no path mapping rules\n`;
  const lines = doc.path_mapping_rules.map(
    (r, i) =>
      `  ${i}  ${r.source_path_format.padEnd(7)}  ${r.source_path}  →  ${r.destination_path}`,
  );
  return `pool ${pool}: path mapping rules\n${lines.join('\n')}\n`;
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

export function registerPathMappingCommand(pool: Command): void {
  const mapping = pool
    .command('path-mapping')
    .summary("a pool's path mapping rules")
    .description(
      "Where a submitter's path is found on the pool's nodes (OpenJD pathmapping-1.0 rules, as " +
        "Deadline Cloud's storage profiles): every work order of the pool's jobs carries them, " +
        'and each worker adds its own --path-mapping-rules (docs/workers.md#path-mapping).',
    );

  const run = (
    pool: string,
    command: Command,
    send: (client: ReturnType<typeof clientOf>) => Promise<RulesDocument>,
  ) =>
    (async () => {
      const common = commonFlags(command);
      const doc = await send(clientOf(common));
      if (common.json) return printJson(doc);
      out(describe(pool, doc));
    })();

  withClientOptions(
    mapping.command('show').description("a pool's rules, numbered").argument('<pool>', 'pool'),
  ).action(
    action((name: string, _flags: unknown, command: Command) =>
      run(name, command, (c) => c.get<RulesDocument>(path(name))),
    ),
  );

  withClientOptions(
    mapping
      .command('add')
      .description('add a rule after the others (admins)')
      .argument('<pool>', 'pool')
      .argument(
        '<source>',
        'the path as submitters write it (absolute: /mnt/projects or P:\\projects)',
      )
      .argument('<destination>', "where it is on the pool's nodes")
      .option(
        '--format <format>',
        'POSIX or WINDOWS (default: WINDOWS for a path like C:\\ or \\\\host\\share, else POSIX)',
      ),
  ).action(
    action(
      (
        name: string,
        source: string,
        destination: string,
        flags: { format?: string },
        command: Command,
      ) => {
        const format = flags.format ?? (/^[A-Za-z]:[\\/]|^\\\\/.test(source) ? 'WINDOWS' : 'POSIX');
        const body = {
          source_path_format: format,
          source_path: source,
          destination_path: destination,
        };
        return run(name, command, (c) => c.request<RulesDocument>('POST', path(name), { body }));
      },
    ),
  );

  withClientOptions(
    mapping
      .command('set')
      .description("replace a pool's rules with a pathmapping-1.0 JSON file (admins)")
      .argument('<pool>', 'pool')
      .requiredOption('--file <file>', 'the rules document (- for standard input)'),
  ).action(
    action((name: string, flags: { file: string }, command: Command) =>
      run(name, command, (c) =>
        c.request<RulesDocument>('PUT', path(name), { body: readDocument(flags.file) }),
      ),
    ),
  );

  withClientOptions(
    mapping
      .command('remove')
      .description('remove one rule by its number in show (admins)')
      .argument('<pool>', 'pool')
      .argument('<number>', 'the rule number'),
  ).action(
    action((name: string, index: string, _flags: unknown, command: Command) => {
      if (!/^[0-9]+$/.test(index)) throw new CliError(`the rule number is 0, 1, …, not "${index}"`);
      return run(name, command, (c) =>
        c.request<RulesDocument>('DELETE', `${path(name)}/${index}`),
      );
    }),
  );

  withClientOptions(
    mapping
      .command('clear')
      .description("remove all of a pool's rules (admins)")
      .argument('<pool>', 'pool'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      await clientOf(common).request('DELETE', path(name));
      if (common.json) return printJson({ version: 'pathmapping-1.0', path_mapping_rules: [] });
      out(`pool ${name} has no path mapping rules\n`);
    }),
  );
}
