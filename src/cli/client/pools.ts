import type { Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  optionParser,
  out,
  printJson,
  withClientOptions,
} from './command-support.js';
import { table, type Column } from './format.js';
import { registerPathMappingCommand } from './path-mapping.js';

/*
 * `drover pool list|show|set|delete`: pools' scheduling modes over /api/v1/pools
 * (docs/scheduling.md). A pool never set is `priority`. `drover pool path-mapping`: its
 * path mapping rules (path-mapping.ts).
 */

interface Pool {
  name: string;
  mode: 'priority' | 'balanced' | 'weighted';
  shareBy: 'user' | 'project';
  description: string;
  shares: {
    user?: string;
    project?: string;
    share: number;
    burst: number | null;
    running: number;
  }[];
}

const MODES = ['priority', 'balanced', 'weighted'];

const COLUMNS: readonly Column<Pool>[] = [
  { header: 'NAME', value: (p) => p.name, max: 40 },
  {
    header: 'MODE',
    value: (p) =>
      p.mode === 'weighted' && p.shareBy === 'project' ? 'weighted by project' : p.mode,
  },
  { header: 'SHARES', value: (p) => String(p.shares.length), right: true },
  { header: 'DESCRIPTION', value: (p) => p.description || '-', max: 40 },
];

interface ShareFlag {
  /** The user, or the project with --share-by project (named so in the body then). */
  user: string;
  share: number;
  burst?: number;
}

/** `--share bob=2` or `--share bob=2:8` (share 2, at most 8 running). */
function shareOf(text: string, previous: ShareFlag[] = []): ShareFlag[] {
  const m = /^([^=]+)=([0-9]*\.?[0-9]+)(?::([0-9]+))?$/.exec(text.trim());
  if (!m)
    throw new CliError(
      `--share is user=share or user=share:burst (a project with --share-by project), not "${text}"`,
    );
  const one: ShareFlag = { user: m[1]!.trim(), share: Number(m[2]) };
  if (m[3] !== undefined) one.burst = Number(m[3]);
  return [...previous, one];
}

function describe(p: Pool): string {
  const byProject = p.shareBy === 'project';
  const shares = p.shares.map(
    (s) =>
      `\n  ${byProject ? `project ${s.project}` : s.user}: share ${s.share}, ${s.running} running${s.burst === null ? '' : `, burst limit ${s.burst}`}`,
  );
  return (
    `pool ${p.name}: ${p.mode}${p.mode === 'weighted' && byProject ? ' by project' : ''}` +
    (p.description ? ` (${p.description})` : '') +
    shares.join('') +
    (p.mode === 'weighted'
      ? `\n  any other ${byProject ? 'project' : 'user'}: share 1, no burst limit`
      : '') +
    '\n'
  );
}

export function registerPoolCommand(program: Command): void {
  const pool = program
    .command('pool')
    .summary("manage pools' scheduling modes")
    .description(
      'A pool schedules by priority then age (priority, the default), shares nodes between ' +
        'equal-priority jobs (balanced), or between users or projects by share (weighted), see docs/scheduling.md.',
    );

  withClientOptions(pool.command('list').description('list the pools with a setting')).action(
    action(async (_flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const { items } = await clientOf(common).get<{ items: Pool[] }>('/pools', { limit: 1000 });
      if (common.json) return printJson(items);
      out(items.length ? table(COLUMNS, items) : 'no pool has a setting: all are priority\n');
    }),
  );

  withClientOptions(
    pool.command('show').description("a pool's mode and shares").argument('<name>', 'pool'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const found = await clientOf(common).get<Pool>(`/pools/${encodeURIComponent(name)}`);
      if (common.json) return printJson(found);
      out(describe(found));
    }),
  );

  withClientOptions(
    pool
      .command('set')
      .description("set a pool's mode, and a weighted pool's shares (admins)")
      .argument('<name>', 'pool')
      .requiredOption(
        '--mode <mode>',
        MODES.join(', '),
        optionParser((t) => {
          if (!MODES.includes(t)) throw new CliError(`--mode is one of ${MODES.join(', ')}`);
          return t;
        }),
      )
      .option(
        '--share-by <whose>',
        'weighted: user (default) or project, whose shares --share names',
        optionParser((t) => {
          if (t !== 'user' && t !== 'project') throw new CliError('--share-by is user or project');
          return t;
        }),
      )
      .option(
        '--share <name=share[:burst]>',
        'a user (or project) share (weighted; repeat)',
        shareOf,
      )
      .option('--description <text>', 'what the pool is for'),
  ).action(
    action(
      async (
        name: string,
        flags: { mode: string; shareBy?: string; share?: ShareFlag[]; description?: string },
        command: Command,
      ) => {
        const common = commonFlags(command);
        const body: Record<string, unknown> = { mode: flags.mode };
        if (flags.shareBy) body.shareBy = flags.shareBy;
        if (flags.share) {
          body.shares =
            flags.shareBy === 'project'
              ? flags.share.map(({ user, ...rest }) => ({ project: user, ...rest }))
              : flags.share;
        }
        if (flags.description !== undefined) body.description = flags.description;
        const set = await clientOf(common).request<Pool>(
          'PUT',
          `/pools/${encodeURIComponent(name)}`,
          { body },
        );
        if (common.json) return printJson(set);
        out(describe(set));
      },
    ),
  );

  registerPathMappingCommand(pool);

  withClientOptions(
    pool
      .command('delete')
      .description("forget a pool's setting (admins): it is priority again")
      .argument('<name>', 'pool'),
  ).action(
    action(async (name: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      await clientOf(common).request('DELETE', `/pools/${encodeURIComponent(name)}`);
      if (common.json) return printJson({ deleted: name });
      out(`pool ${name} is priority again\n`);
    }),
  );
}
