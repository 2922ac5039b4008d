import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely prepares every statement again on every call. Preparing is a parse and a plan,
 * and it took the largest share of the server's time in a dispatch profile: reusing the
 * prepared statements took dispatch from 152 to 211 tasks/s (+39%) on SQLite. Statements
 * are run synchronously to completion (Kysely's `all`/`run`), so one prepared statement
 * is never used by two queries at once; streamed queries (`iterate`) get their own.
 *
 * Statements of a changing shape (an `in (?, ?, …)` list of any length) would grow the
 * cache without end, so it keeps the most recently used `capacity` ones.
 */
export function cachingStatements(db: SQLite.Database, capacity = 500): SqliteDatabase {
  const cache = new Map<string, RowStatement>();
  return {
    close: () => void db.close(),
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Map keeps insertion order: moving a hit to the end makes the first key the least recently used.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const statement = new RowStatement(db.prepare(withOpaqueLimits(sql)));
      if (hit) return statement;
      cache.set(sql, statement);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      return statement;
    },
  };
}

/**
 * A prepared statement as Kysely runs it, whose rows are read as arrays and made objects here.
 * better-sqlite3 builds a row object in C++ one named property at a time, interning every
 * column's name again for every row: in a profile of the single-task protocol on SQLite, that
 * was ~10% of the server's CPU (a job row has 73 columns, a node's 27). A row read as an array
 * and made an object by a function compiled once per statement, whose literal gives every row
 * one shape, took 5.2 µs against 12.3 for one job row, and 14 µs against 35 for ten task rows
 * (better-sqlite3 12, this machine).
 */
class RowStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: SQLite.Statement;
  readonly #row: RowMaker | undefined;

  constructor(statement: SQLite.Statement) {
    this.#statement = statement;
    this.reader = statement.reader;
    this.#row = statement.reader ? rowMaker(statement.columns().map((c) => c.name)) : undefined;
    if (this.#row) statement.raw(true);
  }

  get busy(): boolean {
    return this.#statement.busy;
  }

  /** The SQL as prepared (after withOpaqueLimits). */
  get source(): string {
    return this.#statement.source;
  }

  all(parameters: readonly unknown[]): unknown[] {
    const rows = this.#statement.all(parameters) as unknown[];
    const row = this.#row;
    if (!row) return rows;
    for (let i = 0; i < rows.length; i++) rows[i] = row(rows[i] as unknown[]);
    return rows;
  }

  run(parameters: readonly unknown[]): SQLite.RunResult {
    return this.#statement.run(parameters);
  }

  *iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
    const row = this.#row;
    for (const values of this.#statement.iterate(parameters)) {
      yield row ? row(values as unknown[]) : values;
    }
  }
}

/**
 * A function that makes a row object of its column values, as better-sqlite3 would: a name
 * given twice keeps its first place and its last value, as an object literal does. No maker for
 * a column named `__proto__`, which a literal would take for the prototype: such a statement
 * keeps better-sqlite3's own rows.
 *
 * Statements of one shape but another length of `in (…)` list have the same columns: they
 * share a maker (compiling and first calling one of 27 columns took ~48 µs), and their rows
 * one hidden class. The makers of at most MAKERS column lists are kept.
 */
function rowMaker(names: string[]): RowMaker | undefined {
  if (names.includes('__proto__')) return undefined;
  const key = JSON.stringify(names);
  let maker = makers.get(key);
  if (!maker) {
    if (makers.size >= MAKERS) makers.clear();
    const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ');
    // The names are the statement's own columns, each quoted as a JSON string.
    maker = new Function('v', `return { ${fields} };`) as RowMaker;
    makers.set(key, maker);
  }
  return maker;
}

type RowMaker = (values: unknown[]) => unknown;
const MAKERS = 1000;
const makers = new Map<string, RowMaker>();

/**
 * SQLite (3.53, in better-sqlite3 12) runs a statement whose LIMIT or OFFSET is a bound
 * parameter at the cost of preparing it anew each time: the cost grows with the size of the
 * statement, not with the rows it reads, and a BigInt binding costs the same. Run alone on a
 * queue of 30 jobs, the claim's page of dispatchable jobs took 107 µs with `limit ?` and 18 µs
 * with `limit 4`; a job's first queued task, 35 µs against 18. An expression hides the value
 * from the planner, and the prepared plan is reused: every `limit ?` and `offset ?` is
 * written as a cast.
 */
export function withOpaqueLimits(sql: string): string {
  return sql.replace(/\b(limit|offset) \?/gi, '$1 cast(? as integer)');
}
