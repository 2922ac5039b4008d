/*
 * Every benchmark bounds its own run time: past its budget it stops its server processes,
 * drops its databases and exits, so that a stuck run leaves nothing behind.
 */

/** A failure the benchmark explains in its message; printed without a stack trace. */
export class ExpectedFailure extends Error {}

const cleanups: (() => Promise<void>)[] = [];

/** Registers a clean-up to run, newest first, if the run is cut short. Run it again is harmless. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups.length = 0;
}

/** Runs the benchmark; after `seconds` (or on an error, SIGINT or SIGTERM) cleans up and exits 1. */
export async function runBounded(seconds: number, main: () => Promise<void>): Promise<void> {
  const fail = (why: string) => {
    process.stderr.write(`${why}\n`);
    void cleanUp().finally(() => process.exit(1));
  };
  const timer = setTimeout(
    () => fail(`benchmark stopped: over its budget of ${seconds} s (--budget)`),
    seconds * 1000,
  );
  process.once('SIGINT', () => fail('benchmark interrupted'));
  process.once('SIGTERM', () => fail('benchmark terminated'));
  try {
    await main();
    clearTimeout(timer);
    await cleanUp();
    process.exit(0);
  } catch (error) {
    clearTimeout(timer);
    fail(
      error instanceof ExpectedFailure
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error),
    );
  }
}
