import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries `check` until it stops throwing: for effects that arrive after the call that
 * caused them (events through PostgreSQL's LISTEN, work applied after a 202). The limit only
 * matters when the effect never comes, so it is generous: a loaded CI machine is slow.
 */
export async function eventually(check: () => unknown, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(20);
    }
  }
}
