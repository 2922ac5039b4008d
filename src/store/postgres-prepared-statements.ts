import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Named statements one connection keeps; past this, statements go unnamed (parsed each time). */
const MAX_PER_CONNECTION = 1000;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it on every call. Naming
 * each statement by a hash of its text lets pg parse it once per connection and then only
 * bind and execute it. Statements of a changing shape (an `in ($1, $2, …)` list) would
 * each take a slot on the server, so a connection names at most MAX_PER_CONNECTION.
 *
 * A prepared `select *` breaks if another server adds a column to its table (a rolling
 * upgrade): PostgreSQL answers 0A000 "cached plan must not change result type". That
 * statement is then sent unnamed on that connection from then on.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) {
      name = 'd' + createHash('sha1').update(text).digest('base64url').slice(0, 24);
      if (names.size >= 10_000) names.clear();
      names.set(text, name);
    }
    return name;
  };
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const named = new Set<string>();
    const unnamed = new Set<string>();
    const send = async (text: string, given: readonly unknown[]) => {
      const values = given.map(arrayAsLiteral);
      const prepare = !unnamed.has(text) && (named.has(text) || named.size < MAX_PER_CONNECTION);
      if (!prepare) return client.query(text, values);
      named.add(text);
      try {
        return await client.query({ name: nameOf(text), text, values });
      } catch (error) {
        if ((error as { code?: unknown }).code === '0A000') {
          named.delete(text);
          unnamed.add(text);
        }
        throw error;
      }
    };
    let beginPending = false;
    /** A transaction is open whose end has not been written yet. */
    let open = false;
    /** The `begin`s waiting for that end (none but on a held connection). */
    let waiting: (() => void)[] = [];
    const endWritten = () => {
      open = false;
      const waken = waiting;
      waiting = [];
      for (const wake of waken) wake();
    };
    const query = async (text: string, values: readonly unknown[]) => {
      if (text === 'begin' && values.length === 0) {
        // Transactions may share this connection (held-connection.ts): a `begin` is written
        // only behind the end of the one before, never inside it.
        while (open) await new Promise<void>((wake) => waiting.push(wake));
        open = true;
        beginPending = true;
        return BEGUN;
      }
      const ends = text === 'commit' || text === 'rollback';
      if (!beginPending) {
        // `send` writes the query before it first waits: the end is on the wire.
        const answer = send(text, values);
        if (ends) endWritten();
        return answer;
      }
      beginPending = false;
      if (ends) {
        endWritten();
        // A transaction that ran nothing: there is nothing to end.
        return ended(text);
      }
      // pg writes queries in the order they are made, `begin` first, and each at once:
      // corked, the two go out in one write.
      const stream = (client as unknown as { connection?: { stream?: Corkable } }).connection
        ?.stream;
      stream?.cork();
      let begun: Promise<unknown>;
      let answer: Promise<unknown>;
      try {
        begun = client.query('begin');
        answer = send(text, values);
      } finally {
        stream?.uncork();
      }
      try {
        await begun;
      } catch (error) {
        // BEGIN on an idle connection fails only with the connection, which the statement
        // shares: the statement failed too, and its error is not the news.
        answer.catch(() => undefined);
        throw error;
      }
      return answer;
    };
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => {
        beginPending = false;
        endWritten();
        client.release(destroy);
      },
    } satisfies PostgresPoolClient;
  };
  return {
    async connect() {
      const client = await pool.connect();
      let found = wrapped.get(client);
      if (!found) wrapped.set(client, (found = wrap(client)));
      return found;
    },
    end: () => pool.end(),
  };
}

/*
 * `begin` is not sent on its own: it goes out with the transaction's first statement, in one
 * write (the pool's connections are in pg's pipeline mode), and PostgreSQL answers both in
 * one read. Sent alone, it cost a round trip, and on a busy server each round trip waits
 * for a turn of the event loop: in bench/peer.ts (single-task protocol, PostgreSQL, 50
 * nodes, jobs of 100 tasks) the write lane's `begin` took 2.1 ms from send to answer on
 * average, for no work. Written with the first statement, a lane transaction of ~25 calls
 * took 7.9–8.9 ms against 9.0–9.3 ms (two alternated pairs, one quiet machine). pg wrote
 * the two apart until the socket was corked around them: 2,000 transactions of one
 * statement made 7,517 `write` calls before and 5,627 after (strace -c), and PostgreSQL
 * reads both at once.
 */
const BEGUN = { command: 'BEGIN', rowCount: null, rows: [] };

/** pg's socket (a net.Socket): written to at each query unless corked. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

function ended(text: 'commit' | 'rollback') {
  return { command: text.toUpperCase(), rowCount: null, rows: [] };
}

/**
 * A flat array of numbers, booleans, strings and nulls as PostgreSQL's array literal, which
 * pg would otherwise write: pg quotes every element and runs two regular expressions over
 * its text (utils.js escapeElement). The claims' and finishes' statements pass their rows as
 * arrays (`unnest(cast($1 as bigint[]), …)`), and in bench/peer.ts (batched protocol,
 * PostgreSQL, 20,000 tasks) pg's array writing was 3.3% of the server's profile. Anything
 * else (nested arrays, buffers, dates, objects) is left to pg.
 */
export function arrayAsLiteral(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  let text = '{';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) text += ',';
    const item: unknown = value[i];
    if (item === null || item === undefined) text += 'NULL';
    else if (typeof item === 'number' || typeof item === 'boolean') text += String(item);
    else if (typeof item === 'string') text += quoted(item);
    else return value;
  }
  return text + '}';
}

function quoted(item: string): string {
  if (item.indexOf('\\') < 0 && item.indexOf('"') < 0) return `"${item}"`;
  return `"${item.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
