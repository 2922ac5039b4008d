import type { CompiledQuery, Compilable, RawBuilder } from 'kysely';
import type { Executor } from './database.js';

/*
 * Kysely builds a query as a tree of immutable nodes and compiles the tree to SQL on every
 * call. On the dispatch path that cost as much as running the statement: building and
 * compiling the claim's node read took 68 µs where SQLite ran it in 66 µs (measured side by
 * side, one loaded machine), and Kysely's own code was about 17% of the server's busy time
 * in a single-task dispatch profile. A compiled query is built once per database and shape,
 * with a placeholder for each argument, and each call only puts its arguments in place.
 *
 * A builder must not branch on its arguments' values, since it sees placeholders: only an
 * array's length may shape the query (`in (…)` lists), and each length is its own shape.
 */

/** Stands for argument `index` (element `element` of it, for an array) in a built query. */
class Placeholder {
  constructor(
    readonly index: number,
    readonly element = -1,
  ) {}
}

/** The shapes one query may take before it stops caching new ones (distinct list lengths). */
const MAX_SHAPES = 256;

export interface CompiledQueryRunner<A extends unknown[], O> {
  /** Runs the query with these arguments on the database or transaction `db`. */
  execute(db: Executor, ...args: A): Promise<O[]>;
  /** The first row, or undefined. */
  executeTakeFirst(db: Executor, ...args: A): Promise<O | undefined>;
}

/**
 * A query built by `build` once per database and shape, then reused. `build` receives
 * placeholders where its arguments go and must return the query unexecuted (a query
 * builder, or a `sql` template).
 */
export function compiledQuery<A extends unknown[], O>(
  build: (db: Executor, ...args: A) => Compilable<O> | RawBuilder<O>,
): CompiledQueryRunner<A, O> {
  /** Per database (its executor's adapter, shared by its transactions), per shape. */
  const built = new WeakMap<object, Map<string, CompiledQuery<O>>>();

  const compiledFor = (db: Executor, args: A): CompiledQuery<O> => {
    const adapter = db.getExecutor().adapter;
    let shapes = built.get(adapter);
    if (!shapes) built.set(adapter, (shapes = new Map()));
    const shape = args.map((a) => (Array.isArray(a) ? a.length : '')).join(',');
    let query = shapes.get(shape);
    if (!query) {
      const placeholders = args.map((a, i) =>
        Array.isArray(a) ? a.map((_, j) => new Placeholder(i, j)) : new Placeholder(i),
      ) as A;
      const q = build(db, ...placeholders);
      query = 'isRawBuilder' in q ? q.compile(db) : q.compile();
      if (shapes.size < MAX_SHAPES) shapes.set(shape, query);
    }
    return query;
  };

  const execute = async (db: Executor, ...args: A): Promise<O[]> => {
    const query = compiledFor(db, args);
    const fill = (p: unknown): unknown => {
      if (!(p instanceof Placeholder)) return p;
      const arg = args[p.index];
      return p.element < 0 ? arg : (arg as unknown[])[p.element];
    };
    // An array in a `sql` template is one parameter (PostgreSQL's `cast($1 as bigint[])`).
    const parameters = query.parameters.map((p) => (Array.isArray(p) ? p.map(fill) : fill(p)));
    const { rows } = await db.executeQuery<O>({ ...query, parameters });
    return rows;
  };

  return {
    execute,
    async executeTakeFirst(db, ...args) {
      return (await execute(db, ...args))[0];
    },
  };
}
