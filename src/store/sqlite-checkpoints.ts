import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/*
 * SQLite in WAL mode copies the log back into the database file (a checkpoint) on the commit
 * that takes the log past `wal_autocheckpoint` pages (1,000 by default), in the committing
 * connection: on the server's one writer, on its event loop. A checkpoint of 1,000 pages
 * took 20–25 ms on a 2-core test machine (ten in a row, synchronous = NORMAL: it writes
 * the pages and syncs the file), and the whole server (claims, heartbeats, every request)
 * waited for it. In bench/peer.ts (batched protocol, SQLite, 30,000 tasks) the commits
 * were 10.6 % of the server's busy time with the writer checkpointing, 6.0 % without.
 *
 * So a worker thread checkpoints instead, on a connection of its own, every INTERVAL_MS:
 * PASSIVE, which neither waits for nor blocks the writer and the readers. The writer's own
 * checkpoint stays as a backstop, at WRITER_BACKSTOP_PAGES, should the thread fall behind
 * (a reader holding an old snapshot keeps it from finishing) or fail.
 *
 * The thread starts START_AFTER_MS after the database opens: a short-lived process (a
 * command of the CLI, most tests) ends before it would have anything to do, and until then
 * the writer checkpoints at the default.
 */

const START_AFTER_MS = 1_000;
const INTERVAL_MS = 100;
const WRITER_DEFAULT_PAGES = 1_000;
const WRITER_BACKSTOP_PAGES = 10_000;
/** How long closing waits for the thread to close its connection before ending it. */
const STOP_TIMEOUT_MS = 5_000;

/** The thread, as CommonJS evaluated in the worker (no file to find in src/ or dist/). */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY or a lost file: the next turn tries again, the writer's backstop holds.
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

export interface BackgroundCheckpoints {
  /** Stops the thread (it closes its connection first); the writer checkpoints alone again. */
  stop(): Promise<void>;
}

/** Checkpoints `writer`'s database file from a worker thread (see above). */
export function checkpointInBackground(
  writer: SQLite.Database,
  file: string,
): BackgroundCheckpoints {
  let stopped = false;
  let worker: Worker | undefined;
  let exited: Promise<unknown> | undefined;
  // The writer may have been closed without stop() (a test destroys the Kysely instance to
  // see the server answer without its database): a pragma on it would throw uncaught.
  const writerCheckpointsAt = (pages: number) => {
    if (!stopped && writer.open) writer.pragma(`wal_autocheckpoint = ${pages}`);
  };
  const timer = setTimeout(() => {
    if (!writer.open) return;
    worker = new Worker(CHECKPOINTER, {
      eval: true,
      // Not the process's flags: `--input-type=module` (node -e) made this CommonJS fail to
      // load, and loaders (tsx) have nothing to do here.
      execArgv: [],
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        file,
        intervalMs: INTERVAL_MS,
      },
    });
    exited = once(worker, 'exit').catch(() => undefined);
    worker.on('message', () => writerCheckpointsAt(WRITER_BACKSTOP_PAGES));
    worker.on('error', () => writerCheckpointsAt(WRITER_DEFAULT_PAGES));
    // After the listeners: a 'message' listener added later refs the worker again, and a
    // process that never closed its database then never exited.
    worker.unref();
  }, START_AFTER_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (!worker) return;
      worker.postMessage('stop');
      const late = setTimeout(() => void worker?.terminate(), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(late);
    },
  };
}
