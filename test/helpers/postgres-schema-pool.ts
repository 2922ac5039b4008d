import pg from 'pg';

/*
 * A fresh PostgreSQL schema for each test used to be migrated from nothing and dropped
 * after: ~1.5–2 s per engine on the CI machine under the suites' load (every migration's
 * DDL, then a DROP SCHEMA … CASCADE), and the PostgreSQL half of the suites starts several
 * hundred engines. Migrated schemas are now kept in a pool that every test process of the
 * machine shares, one pool per version of the migrations. A test takes a free schema and
 * gets it as the migrations left it: every row deleted, the rows the migrations wrote put
 * back, every sequence set back; that takes a few milliseconds. A schema whose shape a test
 * changed (the suites that re-run a migration on a live schema) is dropped rather than
 * given out again.
 */

const POOL = 'public.drover_test_schema_pool';

/** What a schema held when its migrations had just run. */
interface Pristine {
  /** Every table but the migrator's own, whose rows are the migrations' record. */
  tables: string[];
  /** The rows the migrations wrote, by table, with the columns to insert them by. */
  seeds: { table: string; columns: string[]; rows: unknown[] }[];
  sequences: { name: string; value: string; called: boolean }[];
  /** A digest of the schema's shape: tables, columns, indexes and functions. */
  shape: string;
}

const SHAPE = `
  select md5(coalesce(string_agg(item, ',' order by item), '')) as shape from (
    select c.relname || '.' || a.attname || ':' || a.atttypid::text || a.attnotnull::text as item
      from pg_attribute a join pg_class c on c.oid = a.attrelid
     where c.relnamespace = $1::regnamespace and a.attnum > 0 and not a.attisdropped
    union all
    select c.relname || '/' || c.relkind::text from pg_class c where c.relnamespace = $1::regnamespace
    union all
    select p.proname || '(' || p.pronargs::text || ')' || md5(p.prosrc)
      from pg_proc p where p.pronamespace = $1::regnamespace
  ) items`;

const quoted = (schema: string, name: string) => `"${schema}"."${name}"`;

async function pristineOf(client: pg.Client, schema: string): Promise<Pristine> {
  const tables = (
    await client.query<{ name: string }>(
      `select c.relname as name from pg_class c
        where c.relnamespace = $1::regnamespace and c.relkind = 'r'
          and c.relname not like 'kysely_migration%' order by 1`,
      [schema],
    )
  ).rows.map((r) => r.name);
  const seeds: Pristine['seeds'] = [];
  for (const table of tables) {
    const columns = (
      await client.query<{ name: string }>(
        `select a.attname as name from pg_attribute a
          where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
            and a.attgenerated = '' order by a.attnum`,
        [quoted(schema, table)],
      )
    ).rows.map((r) => r.name);
    const list = columns.map((c) => `"${c}"`).join(', ');
    const { rows } = await client.query(`select ${list} from ${quoted(schema, table)}`);
    if (rows.length > 0) seeds.push({ table, columns, rows });
  }
  const sequences: Pristine['sequences'] = [];
  const names = (
    await client.query<{ name: string }>(
      `select relname as name from pg_class where relnamespace = $1::regnamespace and relkind = 'S'`,
      [schema],
    )
  ).rows;
  for (const { name } of names) {
    const { rows } = await client.query<{ last_value: string; is_called: boolean }>(
      `select last_value::text, is_called from ${quoted(schema, name)}`,
    );
    sequences.push({ name, value: rows[0]!.last_value, called: rows[0]!.is_called });
  }
  const shape = (await client.query<{ shape: string }>(SHAPE, [schema])).rows[0]!.shape;
  return { tables, seeds, sequences, shape };
}

/** One statement that puts a used schema back as its migrations left it. */
function resetStatement(client: pg.Client, schema: string, p: Pristine): string {
  return [
    'begin',
    // Foreign keys are kept by triggers: off for this transaction (a superuser's right, as
    // the test database's user is), so rows go in any order and no trigger of the
    // application fires.
    `set local session_replication_role = replica`,
    ...p.tables.map((t) => `delete from ${quoted(schema, t)}`),
    ...p.seeds.map(
      ({ table, columns, rows }) =>
        `insert into ${quoted(schema, table)} (${columns
          .map((c) => `"${c}"`)
          .join(', ')}) overriding system value select ${columns.map((c) => `"${c}"`).join(', ')}
           from jsonb_populate_recordset(null::${quoted(schema, table)}, ${client.escapeLiteral(
             JSON.stringify(rows),
           )}::jsonb)`,
    ),
    ...p.sequences.map(
      (s) => `select setval('${quoted(schema, s.name)}', ${s.value}, ${s.called})`,
    ),
    'commit',
  ].join(';\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function connected<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

interface PoolRow {
  name: string;
  holder: number | null;
  pristine: Pristine;
}

let counter = 0;

/**
 * A migrated schema of this version of the migrations (`hash`) for this process alone;
 * `migrate` brings a new one up to date when none is free. `release` gives it back.
 */
export async function takePooledSchema(
  url: string,
  hash: string,
  migrate: (schema: string) => Promise<void>,
): Promise<{ schema: string; release(): Promise<void> }> {
  const taken = await connected(url, async (client) => {
    await client.query('begin');
    try {
      await client.query(`select pg_advisory_xact_lock(hashtext('${POOL}'))`);
      await client.query(
        `create table if not exists ${POOL} (name text primary key, hash text not null,
           holder integer, used_at timestamptz not null default now(), pristine jsonb not null)`,
      );
      const { rows } = await client.query<PoolRow>(
        `select name, holder, pristine from ${POOL} where hash = $1 order by name`,
        [hash],
      );
      const free = rows.find((r) => r.holder === null || !alive(r.holder));
      if (free) {
        await client.query(`update ${POOL} set holder = $2, used_at = now() where name = $1`, [
          free.name,
          process.pid,
        ]);
      } else {
        await dropStale(client, hash);
      }
      await client.query('commit');
      if (free) await client.query(resetStatement(client, free.name, free.pristine));
      return free?.name;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  });
  const schema = taken ?? `tp_${hash}_${process.pid}_${counter++}`;
  if (!taken) {
    await migrate(schema);
    await connected(url, async (client) => {
      const pristine = await pristineOf(client, schema);
      await client.query(
        `insert into ${POOL} (name, hash, holder, pristine) values ($1, $2, $3, $4)`,
        [schema, hash, process.pid, JSON.stringify(pristine)],
      );
    });
  }
  return { schema, release: () => release(url, schema) };
}

/** Back to the pool, unless the test changed the schema's shape: then it goes. */
async function release(url: string, schema: string): Promise<void> {
  await connected(url, async (client) => {
    const { rows } = await client.query<{ pristine: Pristine }>(
      `select pristine from ${POOL} where name = $1`,
      [schema],
    );
    const shape = (await client.query<{ shape: string }>(SHAPE, [schema])).rows[0]!.shape;
    if (rows[0] && rows[0].pristine.shape === shape) {
      await client.query(`update ${POOL} set holder = null, used_at = now() where name = $1`, [
        schema,
      ]);
      return;
    }
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.query(`delete from ${POOL} where name = $1`, [schema]);
  });
}

/**
 * The schemas of other versions of the migrations that no live process holds and none has
 * used for an hour: a worktree with other migrations may still be testing with its own.
 */
async function dropStale(client: pg.Client, hash: string): Promise<void> {
  const { rows } = await client.query<{ name: string; holder: number | null }>(
    `select name, holder from ${POOL} where hash <> $1 and used_at < now() - interval '1 hour'`,
    [hash],
  );
  for (const row of rows) {
    if (row.holder !== null && alive(row.holder)) continue;
    await client.query(`drop schema if exists "${row.name}" cascade`);
    await client.query(`delete from ${POOL} where name = $1`, [row.name]);
  }
}
