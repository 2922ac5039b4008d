import type { FastifyReply } from 'fastify';

/**
 * The signal a waiting request (a long-poll) passes to the engine: it fires when the client
 * hangs up before its answer is written, or when the server starts to stop. It listens on
 * the response, not the request: Node emits the request's 'close' as soon as its body has
 * been read, before any handler runs, so a listener added there never fired, and an
 * aborted poll held its claim (and the server's shutdown) for the whole wait.
 */
export function waitSignal(reply: FastifyReply, stopping: AbortSignal): AbortSignal {
  return AbortSignal.any([hangUpSignal(reply), stopping]);
}

/**
 * waitSignal without the server's stop, for the dispatcher's claims: the engine's
 * stopWaiting closes the dispatcher, which ends every wait itself. Joining the two signals
 * (AbortSignal.any) for every claim took ~1.4% of the server's time in the single-task
 * protocol (bench/peer.ts, SQLite), where every task begins with a long-poll.
 */
export function hangUpSignal(reply: FastifyReply): AbortSignal {
  return hangUpController(reply).signal;
}

/** hangUpSignal's controller, which its caller may abort for reasons of its own. */
export function hangUpController(reply: FastifyReply): AbortController {
  const hangUp = new AbortController();
  const response = reply.raw;
  if (response.destroyed) hangUp.abort();
  else {
    response.once('close', () => {
      if (!response.writableFinished) hangUp.abort();
    });
  }
  return hangUp;
}

/**
 * The signal of `controller`, which also aborts should `work` fail: a claim that carries
 * finishes gives back what it took if they fail (native/node-batches.ts). The controller is
 * the claim's own (hangUpController), aborted here too, rather than joined to a second one
 * by AbortSignal.any: joining them took ~2% of the server's profile in the batched protocol
 * (bench/peer.ts, PostgreSQL), where most claims carry finishes.
 */
export function abortedOnFailure(controller: AbortController, work: Promise<unknown>): AbortSignal {
  work.catch(() => controller.abort());
  return controller.signal;
}
