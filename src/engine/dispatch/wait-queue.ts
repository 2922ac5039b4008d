import type { DroverEvent } from '../events/events.js';

const LIVE = new Set(['QUEUED', 'RUNNING']);

/** How many times one wake may be passed on by waiters that found nothing to take. */
const MAX_HOPS = 64;

/**
 * How many waiting nodes an event should wake: as many as tasks it made claimable, the
 * node it concerns, or everyone when it cannot say. Waking every idle node on every event
 * made one submission cost 1.8–2.4 s with 1,000 nodes waiting, each running the dispatch
 * query to find the one task.
 */
export function wakeFor(event: DroverEvent): { count: number } | { node: number } | 'all' | null {
  switch (event.type) {
    case 'task.state':
      return event.to === 'QUEUED' ? { count: event.count } : null;
    case 'job.created':
      return event.queued === undefined ? 'all' : event.queued > 0 ? { count: event.queued } : null;
    case 'job.state':
      // A job coming back (resumed, released) may bring queued tasks without moving them.
      return LIVE.has(event.to) && !LIVE.has(event.from) ? 'all' : null;
    case 'job.updated':
    case 'job.undeleted':
    case 'limit.changed':
    case 'pool.changed':
      // Pool, priority, limits, a pool's burst limits or the node list changed: who may run
      // what is anyone's guess.
      return 'all';
    case 'execution.state':
      // An ended execution frees a slot of its node, and room under its job's machine limit.
      return event.from !== null && !LIVE.has(event.to) ? { node: event.nodeId } : null;
    case 'node.state':
      return { node: event.nodeId };
    case 'retries.unbound':
      // Retries bound to a node that went away: as many other nodes as there are of them.
      return { count: event.count };
    default:
      return null;
  }
}

interface Waiter {
  nodeId: number;
  wake: (hops: number) => void;
}

/**
 * The nodes whose acquire waits for work, oldest first. A waiter woken for work it then
 * cannot take (another pool, another node was faster) passes the wake on to the next one,
 * at most once per waiter that was there when the event came, so an event never wakes the
 * same idle farm in a loop.
 */
export class WaitQueue {
  readonly #waiters = new Map<symbol, Waiter>();

  get size(): number {
    return this.#waiters.size;
  }

  add(nodeId: number, wake: (hops: number) => void): symbol {
    const key = Symbol(String(nodeId));
    this.#waiters.set(key, { nodeId, wake });
    return key;
  }

  delete(key: symbol): void {
    this.#waiters.delete(key);
  }

  /**
   * Wakes the `count` oldest waiters; each may pass its wake on `hops` times. Passing is
   * bounded (MAX_HOPS) because a task no waiting node may run would otherwise cost one
   * dispatch query per idle node; a node that was passed over finds it anyway when its
   * long-poll ends and it asks again.
   */
  wake(count: number, hops = Math.min(this.#waiters.size, MAX_HOPS)): void {
    for (const [key, waiter] of this.#waiters) {
      if (count-- <= 0) break;
      this.#waiters.delete(key);
      waiter.wake(hops);
    }
  }

  wakeNode(nodeId: number): void {
    for (const [key, waiter] of this.#waiters) {
      if (waiter.nodeId !== nodeId) continue;
      this.#waiters.delete(key);
      waiter.wake(0);
    }
  }

  wakeAll(): void {
    const all = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const waiter of all) waiter.wake(0);
  }

  handle(event: DroverEvent): void {
    const wake = wakeFor(event);
    if (wake === null) return;
    if (wake === 'all') this.wakeAll();
    else if ('node' in wake) {
      this.wakeNode(wake.node);
      // Room under a machine limit may let another node in; one more look is enough.
      if (event.type === 'execution.state') this.wake(1, 0);
    } else this.wake(wake.count);
  }
}
