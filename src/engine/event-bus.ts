import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { DroverEvent, EventListener } from './events.js';

type Stamped = DroverEvent & { at: number };

/**
 * The one bus every state change goes through. Publishing happens inside the transaction
 * that made the change (`stage`) and reaches listeners only once it commits, so no one is
 * told about something that was rolled back.
 */
export interface EventBus {
  /** Deliver events that a committed transaction staged. */
  deliver(events: Stamped[]): void;
  subscribe(listener: EventListener): () => void;
  /** The events of a transaction that is about to commit (PostgreSQL sends them with it). */
  readonly sendsWithTransaction: boolean;
  close(): Promise<void>;
}

export class LocalEventBus implements EventBus {
  readonly sendsWithTransaction: boolean = false;
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

/**
 * Across replicas: transactions NOTIFY their events (PostgreSQL delivers them at commit and
 * drops them on rollback), and every replica — this one included — LISTENs and delivers
 * what arrives to its local listeners.
 */
export class PostgresEventBus extends LocalEventBus {
  override readonly sendsWithTransaction = true;
  #client: pg.Client | undefined;
  #closed = false;

  private constructor(
    private readonly url: string,
    readonly channel: string,
  ) {
    super();
  }

  static async connect(url: string, schema: string): Promise<PostgresEventBus> {
    const bus = new PostgresEventBus(url, notifyChannel(schema));
    await bus.#listen();
    return bus;
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      try {
        super.deliver(JSON.parse(message.payload) as Stamped[]);
      } catch {
        // A malformed payload came from something other than Drover; ignore it.
      }
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    await client.connect();
    await client.query(`LISTEN "${this.channel}"`);
    this.#client = client;
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

  /** Events reach local listeners through LISTEN, like every other replica's. */
  override deliver(): void {}

  override async close(): Promise<void> {
    this.#closed = true;
    await super.close();
    await this.#client?.end().catch(() => undefined);
  }
}

/** Packs events into NOTIFY payloads below the size limit. */
export function packPayloads(events: Stamped[]): string[] {
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = 2;
  for (const event of events) {
    const json = JSON.stringify(event);
    if (batch.length > 0 && size + json.length + 1 > NOTIFY_PAYLOAD_LIMIT) {
      payloads.push(`[${batch.join(',')}]`);
      batch = [];
      size = 2;
    }
    batch.push(json);
    size += json.length + 1;
  }
  if (batch.length > 0) payloads.push(`[${batch.join(',')}]`);
  return payloads;
}
