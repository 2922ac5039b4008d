import { Command, Option } from 'commander';
import { describeConfig, resolveConfig, SERVE_OPTIONS } from '../config.js';
import { parseSpan } from '../domain/durations.js';
import { ROLES, type Role } from '../domain/roles.js';
import { VERSION } from '../domain/version.js';
import type { Grant, GrantScope } from '../engine/accounts/grants.js';
import type { startEngine } from '../engine/engine.js';
import { registerWorkerCommand } from '../worker/command.js';
import { registerClientCommands } from './client/index.js';
import { registerCompletionCommand } from './completion.js';

/*
 * The server, the engine and the accounts are imported inside the commands that use them:
 * every client command (`drover jobs`, `drover submit`, ...) then starts in ~0.25 s
 * instead of ~0.85 s, measured on the 2-core CI machine, since it no longer loads Fastify,
 * Kysely and both database drivers it never uses.
 */
const accounts = () => import('../engine/accounts/accounts.js');
const grants = () => import('../engine/accounts/grants.js');

/** Options every command that opens the database directly shares with `serve`. */
function databaseOptions(command: Command): Command {
  return command
    .option('--data-dir <path>', 'directory for the SQLite file and blobs (DROVER_DATA_DIR)')
    .option('--db <url>', 'postgres:// URL, or SQLite file (DROVER_DB)')
    .option('--config <file>', 'JSON or YAML file of settings (DROVER_CONFIG)');
}

async function withEngine<T>(
  flags: Record<string, unknown>,
  work: (engine: Awaited<ReturnType<typeof startEngine>>) => Promise<T>,
): Promise<T> {
  const config = resolveConfig(
    flags,
    process.env,
    (flags.config as string | undefined) ?? process.env.DROVER_CONFIG,
  );
  const [{ startEngine }, { JOB_DEFINITION_FORMATS }] = await Promise.all([
    import('../engine/engine.js'),
    import('../formats/index.js'),
  ]);
  const engine = await startEngine({ url: config.db, formats: JOB_DEFINITION_FORMATS });
  try {
    return await work(engine);
  } finally {
    await engine.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('drover')
    .description('Drover: a job server for render and data-processing farms')
    .version(VERSION)
    .showHelpAfterError();

  const serve = program
    .command('serve')
    .description('run the server (native API, dialects, web UI)');
  for (const option of SERVE_OPTIONS) {
    const fallback = String(option.defaultValue({}));
    serve.addOption(
      new Option(option.flag, `${option.description} (${option.env}; default ${fallback})`),
    );
  }
  serve.option('--config <file>', 'JSON or YAML file of settings (DROVER_CONFIG)');
  serve.action(async (flags: Record<string, unknown>) => {
    if (flags.auth === true) flags.auth = 'true';
    const config = resolveConfig(
      flags,
      process.env,
      (flags.config as string | undefined) ?? process.env.DROVER_CONFIG,
    );
    process.stdout.write(`drover ${VERSION} starting with\n${describeConfig(config)}\n`);
    const [{ startServer }, { startLocalWorkers }] = await Promise.all([
      import('../server.js'),
      import('../worker/local-workers.js'),
    ]);
    const server = await startServer(config);
    process.stdout.write(
      `drover is listening on ${server.url}\n  API docs   ${server.url}/docs\n  health     ${server.url}/api/v1/health\n`,
    );
    if (server.deadlineUrl) {
      process.stdout.write(`  Deadline   ${server.deadlineUrl}/api/jobs\n`);
    }
    const workers = await startLocalWorkers(server.url, config.localWorkers, config.dataDir);
    const stop = (): void => {
      process.stdout.write('drover: shutting down\n');
      workers
        .stop()
        .then(() => server.close())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  databaseOptions(
    program.command('migrate').description('bring the database schema up to date and exit'),
  ).action(async (flags: Record<string, unknown>) => {
    await withEngine(flags, async () => {
      process.stdout.write('the database schema is up to date\n');
    });
  });

  databaseOptions(
    program
      .command('backup <file>')
      .description(
        'copy a running SQLite farm (database and blob files) to <file> and <file>-blobs, checked; PostgreSQL: use pg_dump',
      ),
  ).action(async (file: string, flags: Record<string, unknown>) => {
    const config = resolveConfig(
      flags,
      process.env,
      (flags.config as string | undefined) ?? process.env.DROVER_CONFIG,
    );
    const { backupSqlite, isPostgresUrl } = await import('../store/sqlite-backup.js');
    if (isPostgresUrl(config.db)) {
      throw new Error('a PostgreSQL farm is backed up with pg_dump (docs/deployment.md, Backups)');
    }
    const done = backupSqlite(config.db, file);
    const mib = (done.bytes / 2 ** 20).toFixed(1);
    process.stdout.write(
      `backed up ${config.db} to ${file} (${mib} MiB, integrity ok)` +
        (done.blobDir ? ` and ${done.blobs} blob file(s) to ${done.blobDir}\n` : '\n'),
    );
  });

  const user = program.command('user').description('manage users');
  databaseOptions(user.command('add <name>').description('add a user'))
    .addOption(
      new Option('--role <role>', 'admin, user or node').choices([...ROLES]).default('user'),
    )
    .option(
      '--password <password>',
      'password for the dialects that log in with one (or DROVER_PASSWORD)',
    )
    .action(async (name: string, flags: Record<string, unknown>) => {
      await withEngine(flags, async (engine) => {
        const password = (flags.password as string | undefined) ?? process.env.DROVER_PASSWORD;
        await (await accounts()).addUser(engine.ctx, name, flags.role as Role, password);
        process.stdout.write(`added ${flags.role as string} ${name}\n`);
      });
    });
  databaseOptions(user.command('passwd <name>').description("set a user's password"))
    .requiredOption('--password <password>', 'the new password')
    .action(async (name: string, flags: Record<string, unknown>) => {
      await withEngine(flags, async (engine) => {
        await (await accounts()).setPassword(engine.ctx, name, flags.password as string);
        process.stdout.write(`password of ${name} set\n`);
      });
    });

  /** --pool NAME or --wrangler, exactly one. */
  const scopeOf = (flags: Record<string, unknown>): GrantScope => {
    const pool = flags.pool as string | undefined;
    if ((pool === undefined) === (flags.wrangler !== true)) {
      throw new Error(
        'give exactly one of --pool NAME (manager of a pool) or --wrangler (every job)',
      );
    }
    return pool === undefined ? { wrangler: true } : { pool };
  };
  const describeGrant = (g: Grant) =>
    g.kind === 'wrangler'
      ? `${g.user} is a wrangler (every job)`
      : `${g.user} manages pool ${g.pool}`;
  databaseOptions(
    user
      .command('grant <name>')
      .description(
        'let a user change every job of a pool, or every job (a wrangler), not only their own',
      ),
  )
    .option('--pool <pool>', 'make the user a manager of this pool')
    .option('--wrangler', 'let the user change every job')
    .action(async (name: string, flags: Record<string, unknown>) => {
      const scope = scopeOf(flags);
      await withEngine(flags, async (engine) => {
        const made = await (await grants()).grant(engine.ctx, name, scope, 'cli');
        process.stdout.write(`granted: ${describeGrant(made)} (grant ${made.id})\n`);
      });
    });
  databaseOptions(
    user.command('revoke-grant <name>').description('take a grant back, at once on every replica'),
  )
    .option('--pool <pool>', 'the pool the user manages')
    .option('--wrangler', 'the wrangler grant')
    .action(async (name: string, flags: Record<string, unknown>) => {
      const scope = scopeOf(flags);
      await withEngine(flags, async (engine) => {
        const gone = await (await grants()).revokeGrant(engine.ctx, name, scope);
        process.stdout.write(`revoked: ${describeGrant(gone)}\n`);
      });
    });
  databaseOptions(user.command('grants [name]').description('list grants (of one user)')).action(
    async (name: string | undefined, flags: Record<string, unknown>) => {
      await withEngine(flags, async (engine) => {
        const rows = await (await grants()).grantsOf(engine.ctx, name);
        process.stdout.write('ID\tUSER\tKIND\tPOOL\tGRANTED\tBY\n');
        for (const g of rows) {
          process.stdout.write(
            `${g.id}\t${g.user}\t${g.kind}\t${g.pool ?? '-'}\t${new Date(g.createdAt).toISOString()}\t${g.createdBy}\n`,
          );
        }
      });
    },
  );

  const token = program.command('token').description('manage API tokens');
  databaseOptions(token.command('create').description('create an API token; it is printed once'))
    .requiredOption('--user <name>', 'the user the token acts as')
    .option('--name <label>', 'a label for the token', 'default')
    .option('--expires <span>', 'refuse the token after this long, e.g. 30d, 12h (default: never)')
    .action(async (flags: Record<string, unknown>) => {
      await withEngine(flags, async (engine) => {
        const expires = flags.expires as string | undefined;
        const options = expires === undefined ? {} : { expiresInMs: parseSpan(expires) };
        const created = await (
          await accounts()
        ).createToken(engine.ctx, flags.user as string, flags.name as string, options);
        process.stdout.write(`${created}\n`);
      });
    });
  databaseOptions(
    token.command('list').description('list API tokens (never the tokens themselves)'),
  )
    .option('--user <name>', 'only the tokens of this user')
    .action(async (flags: Record<string, unknown>) => {
      await withEngine(flags, async (engine) => {
        const rows = await (
          await accounts()
        ).tokensOf(engine.ctx, flags.user as string | undefined);
        const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
        process.stdout.write('ID\tUSER\tNAME\tCREATED\tLAST USED\tEXPIRES\n');
        for (const r of rows) {
          process.stdout.write(
            `${r.id}\t${r.user_name}\t${r.name}\t${when(r.created_at)}\t${when(r.last_used_at)}\t${when(r.expires_at)}\n`,
          );
        }
      });
    });
  databaseOptions(
    token.command('revoke <id>').description('revoke a token at once, on every replica'),
  ).action(async (id: string, flags: Record<string, unknown>) => {
    await withEngine(flags, async (engine) => {
      if (!/^\d+$/.test(id))
        throw new Error(`token id "${id}" is not a number; see drover token list`);
      await (await accounts()).revokeToken(engine.ctx, Number(id));
      process.stdout.write(`token ${id} revoked\n`);
    });
  });

  registerWorkerCommand(program);
  registerClientCommands(program);
  registerCompletionCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `drover logs 7 | head` closes the pipe early; that ends the output, it is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  await buildProgram().parseAsync(argv);
}
