import type { FastifyReply } from 'fastify';
import type { WaitSignal } from '../engine/dispatch/wait-signal.js';

/**
 * The signal a waiting request (a long-poll) passes to the engine: it fires when the client
 * hangs up before its answer is written, or when the server starts to stop. It listens on
 * the response, not the request: Node emits the request's 'close' as soon as its body has
 * been read, before any handler runs, so a listener added there never fired, and an
 * aborted poll held its claim (and the server's shutdown) for the whole wait.
 */
export function waitSignal(reply: FastifyReply, stopping: AbortSignal): AbortSignal {
  return AbortSignal.any([hangUpAbortSignal(reply), stopping]);
}

/**
 * waitSignal without the server's stop, for the dispatcher's claims: the engine's
 * stopWaiting closes the dispatcher, which ends every wait itself. Joining the two signals
 * (AbortSignal.any) for every claim took ~1.4% of the server's time in the single-task
 * protocol (bench/peer.ts, SQLite), where every task begins with a long-poll.
 */
export function hangUpSignal(reply: FastifyReply): HangUp {
  const hangUp = new HangUp();
  onHangUp(reply, () => hangUp.abort());
  return hangUp;
}

/** Calls `abort` when the client hangs up before its answer is written (at once if it has). */
function onHangUp(reply: FastifyReply, abort: () => void): void {
  const response = reply.raw;
  if (response.destroyed) abort();
  else {
    response.once('close', () => {
      if (!response.writableFinished) abort();
    });
  }
}

/**
 * What a claim needs of a signal (WaitSignal), without an AbortController: making one for
 * every claim, most of which find work at once and never wait, was ~1.1% of the server's
 * busy time in the single-task protocol (bench/peer.ts, SQLite; createAbortSignal's own
 * time), an EventTarget and its bookkeeping each. hangUpSignal aborts it when the client hangs
 * up before its answer is written; abortedOnFailure, when the claim's finishes fail.
 */
export class HangUp implements WaitSignal {
  aborted = false;
  #listeners: (() => void)[] = [];

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const listener of this.#listeners.splice(0)) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners.indexOf(listener);
    if (at >= 0) this.#listeners.splice(at, 1);
  }
}

/** An AbortSignal that fires when the client of `reply` hangs up. */
function hangUpAbortSignal(reply: FastifyReply): AbortSignal {
  const hangUp = new AbortController();
  onHangUp(reply, () => hangUp.abort());
  return hangUp.signal;
}

/**
 * `hangUp`, which also aborts should `work` fail: a claim that carries finishes gives back
 * what it took if they fail (native/node-batches.ts). One signal aborted here too, rather
 * than joined to a second one by AbortSignal.any: joining them took ~2% of the server's
 * profile in the batched protocol (bench/peer.ts, PostgreSQL), where most claims carry
 * finishes.
 */
export function abortedOnFailure(hangUp: HangUp, work: Promise<unknown>): HangUp {
  work.catch(() => hangUp.abort());
  return hangUp;
}
