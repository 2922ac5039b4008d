import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { applicationName } from '../../store/database.js';
import type { DroverEvent, EventListener } from './events.js';

type Stamped = DroverEvent & { at: number };

/**
 * The one bus every state change goes through. A transaction's events are delivered once
 * it commits (never for a rollback), to this replica's listeners at once, and with
 * PostgreSQL to every other replica's.
 */
export interface EventBus {
  /** Deliver events that a committed transaction staged. */
  deliver(events: Stamped[]): void;
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
  /** Why events cannot reach the other replicas now; undefined when they can. */
  readonly down?: string | undefined;
  /** PostgreSQL: whether another replica listens now (events are sent to others only then). */
  readonly peersListening?: boolean;
}

export class LocalEventBus implements EventBus {
  protected readonly emitter = new EventEmitter();

  constructor() {
    // Every long-poll and WebSocket subscribes; hundreds of nodes are normal.
    this.emitter.setMaxListeners(0);
  }

  deliver(events: Stamped[]): void {
    for (const event of events) this.emitter.emit('event', event);
  }

  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** NOTIFY payloads must stay under 8000 bytes; events are packed into arrays below that. */
export const NOTIFY_PAYLOAD_LIMIT = 7500;

export function notifyChannel(schema: string): string {
  return `drover_events_${schema}`;
}

/** How the events connection shows in pg_stat_activity. */
export const EVENTS_APPLICATION_NAME = 'drover-events';

/** Events waiting to be sent to other replicas are capped; past it the oldest are dropped. */
const MAX_UNSENT = 50_000;

/** How often a replica says it is listening (a presence NOTIFY). */
const PRESENCE_MS = 10_000;
/** How long another replica's last word counts as it listening: three missed presences. */
const PEER_TTL_MS = 3.5 * PRESENCE_MS;

/** What one NOTIFY carries: the sending replica, so that it can skip its own. */
interface Envelope {
  o: string;
  /** Events. */
  e?: Stamped[];
  /** Presence: `hello` from a replica that has just begun listening, `here` otherwise. */
  p?: 'hello' | 'here';
}

/**
 * Across replicas. A committed transaction's events reach this replica's listeners at once
 * and are then sent to the others with NOTIFY, by one connection, many transactions' events
 * per NOTIFY.
 *
 * They are not sent inside the transaction that made them, as they once were. PostgreSQL
 * serialises every committing transaction that has sent a NOTIFY on one database-wide lock,
 * held through its commit's WAL flush, so no two such commits share a flush. Measured here
 * (16 connections, each updating its own row): 949–1,185 transactions/s without NOTIFY,
 * 354–459 with one. Every claim and finish sent one, which capped dispatch on PostgreSQL at
 * those figures whatever else was done. Sending after commit also spares a round trip
 * while the job's row is locked, and spares this replica the wait for its own events to
 * come back through LISTEN (pickup latency).
 *
 * They are sent only while another replica listens. Each replica says so with a presence
 * NOTIFY: `hello` when it begins listening (answered at once with `here` by the others),
 * and `here` every PRESENCE_MS. A farm of one replica, the common case, then sends no
 * NOTIFY for its events at all: each was a round trip on the events connection and a wake
 * of every listening backend, and came back to this replica through its own LISTEN. In
 * bench/peer.ts (PostgreSQL, 50 nodes, one replica) the server spent 4.8% of its busy time
 * writing them (single-task protocol).
 *
 * The price: events committed but not yet sent when a replica dies are not seen by the
 * others, nor are those committed in the moment between another replica's `hello` and its
 * arrival here. Events are hints, never state: a node waiting on another replica takes the
 * work at its next claim (a wait ends at its timeout), and a page or socket reads the state
 * on (re)connecting.
 */
export class PostgresEventBus extends LocalEventBus {
  readonly #origin = randomUUID();
  readonly #head = payloadHead(this.#origin);
  #client: pg.Client | undefined;
  #closed = false;
  #unsent: Stamped[] = [];
  #sending: Promise<void> | undefined;
  /** Until when another replica is taken to be listening (its last NOTIFY + PEER_TTL_MS). */
  #peersUntil = 0;
  readonly #presence = setInterval(() => this.#say('here'), PRESENCE_MS);
  /** Events dropped because the unsent queue was full (the connection was down long). */
  dropped = 0;

  private constructor(
    private readonly url: string,
    readonly channel: string,
    private readonly applicationName: string,
  ) {
    super();
    this.#presence.unref();
  }

  static async connect(
    url: string,
    schema: string,
    replicaName?: string,
  ): Promise<PostgresEventBus> {
    const bus = new PostgresEventBus(
      url,
      notifyChannel(schema),
      applicationName(EVENTS_APPLICATION_NAME, replicaName),
    );
    try {
      await bus.#listen();
    } catch (error) {
      clearInterval(bus.#presence);
      throw error;
    }
    return bus;
  }

  override deliver(events: Stamped[]): void {
    if (events.length === 0) return;
    super.deliver(events);
    if (!this.peersListening) return;
    this.#unsent.push(...events);
    if (this.#unsent.length > MAX_UNSENT) {
      this.dropped += this.#unsent.length - MAX_UNSENT;
      this.#unsent.splice(0, this.#unsent.length - MAX_UNSENT);
    }
    this.#send();
  }

  /**
   * One send at a time: what commits meanwhile goes out together in the next one. A failed
   * send waits for the reconnection (#listen sends again): retrying at once on a client that
   * can no longer query fails at once too, and that loop starved the process (an event
   * delivered while the bus closed hung the close).
   */
  #send(): void {
    if (this.#closed || this.#sending || this.#unsent.length === 0 || !this.#client) return;
    if (!this.peersListening) {
      // The others left while these waited (the connection was down): no one to tell.
      this.#unsent = [];
      return;
    }
    const client = this.#client;
    const events = this.#unsent;
    this.#unsent = [];
    const payloads = packPayloads(events, this.#origin);
    let sent = false;
    this.#sending = client
      // The payloads as one JSON text, not a text[]: pg writes an array's every element
      // through two regular expressions, and these are JSON, full of quotes (bench/peer.ts,
      // batched, PostgreSQL: 1.6% of the server's profile).
      .query('select pg_notify($1, p) from json_array_elements_text($2::json) as p', [
        this.channel,
        JSON.stringify(payloads),
      ])
      .then(
        () => {
          sent = true;
        },
        () => {
          // The connection broke; the events go out again once it is back.
          this.#unsent = [...events, ...this.#unsent];
        },
      )
      .finally(() => {
        this.#sending = undefined;
        if (sent) this.#send();
      });
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: this.applicationName,
    });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      // Its own payloads come back too; they are known by their start, unparsed.
      if (message.payload.startsWith(this.#head)) return;
      try {
        const parsed = JSON.parse(message.payload) as Envelope | Stamped[];
        if (Array.isArray(parsed)) {
          // A replica of a version before envelopes: it listens too.
          this.#peersUntil = Date.now() + PEER_TTL_MS;
          super.deliver(parsed);
          return;
        }
        if (parsed.o === this.#origin) return;
        this.#peersUntil = Date.now() + PEER_TTL_MS;
        if (parsed.p === 'hello') this.#say('here');
        if (Array.isArray(parsed.e)) super.deliver(parsed.e);
      } catch {
        // A malformed payload came from something other than Drover; ignore it.
      }
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    await client.connect();
    await client.query(`LISTEN "${this.channel}"`);
    this.#client = client;
    this.#say('hello');
    this.#send();
  }

  /** Whether another replica has said lately that it listens. */
  get peersListening(): boolean {
    return Date.now() < this.#peersUntil;
  }

  /** A presence NOTIFY; lost with the connection, which says `hello` again once back. */
  #say(presence: 'hello' | 'here'): void {
    if (this.#closed || !this.#client) return;
    const envelope: Envelope = { o: this.#origin, p: presence };
    this.#client
      .query('select pg_notify($1, $2)', [this.channel, JSON.stringify(envelope)])
      .catch(() => undefined);
  }

  #reconnect(broken: pg.Client): void {
    if (this.#closed || this.#client !== broken) return;
    this.#client = undefined;
    const retry = (): void => {
      if (this.#closed) return;
      this.#listen().catch(() => setTimeout(retry, 1000).unref());
    };
    setTimeout(retry, 200).unref();
  }

  get down(): string | undefined {
    if (this.#closed) return 'the event bus is closed';
    return this.#client ? undefined : 'the LISTEN connection to PostgreSQL is down (reconnecting)';
  }

  override async close(): Promise<void> {
    // What committed before closing still reaches the other replicas.
    while (this.#sending) await this.#sending;
    this.#closed = true;
    clearInterval(this.#presence);
    await super.close();
    await this.#client?.end().catch(() => undefined);
  }
}

function payloadHead(origin: string): string {
  return `{"o":${JSON.stringify(origin)},"e":[`;
}

/** Packs events into NOTIFY payloads (envelopes from `origin`) below the size limit. */
export function packPayloads(events: Stamped[], origin: string): string[] {
  const head = payloadHead(origin);
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = head.length + 2;
  for (const event of events) {
    const json = JSON.stringify(event);
    if (batch.length > 0 && size + json.length + 1 > NOTIFY_PAYLOAD_LIMIT) {
      payloads.push(`${head}${batch.join(',')}]}`);
      batch = [];
      size = head.length + 2;
    }
    batch.push(json);
    size += json.length + 1;
  }
  if (batch.length > 0) payloads.push(`${head}${batch.join(',')}]}`);
  return payloads;
}
