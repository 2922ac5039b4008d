/*
 * The Drover server of a benchmark, in a process of its own so that its CPU is its own and
 * the figures are not taken from the clients. Started by server-process.ts; it reports its
 * URL over IPC, closes on a 'close' message, and exits if its parent goes away.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { takeStatementCounts } from '../../src/store/statement-counts.js';

const [dbUrl, dataDir] = process.argv.slice(2);
if (!dbUrl || !dataDir || !process.send) {
  throw new Error('usage: node --import tsx serve-child.ts DB_URL DATA_DIR (with an IPC channel)');
}
// No Deadline listener: its default port is fixed, and another server may hold it.
const config = resolveConfig(
  { dataDir, db: dbUrl, port: '0', deadlinePort: '0', logLevel: 'error' },
  {},
);
const server = await startServer(config);

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  process.exit(0);
}
/*
 * DROVER_BENCH_PROFILE_DIR: the parent asks for a CPU profile of the timed part of a run
 * only ('profile-start' … 'profile-stop'), without the start-up, submit and warm-up that
 * --cpu-prof would mix in.
 */
const profileDir = process.env.DROVER_BENCH_PROFILE_DIR;
let profiler: Session | undefined;
async function profile(message: string): Promise<void> {
  // With DROVER_COUNT_STATEMENTS=1, the statements of the timed part go to stderr.
  if (message === 'profile-start') takeStatementCounts();
  else printStatements();
  if (!profileDir) {
    process.send!({ profiled: message });
    return;
  }
  if (message === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  } else if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    const file = join(profileDir, `drain-${process.pid}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    profiler.disconnect();
    profiler = undefined;
  }
  process.send!({ profiled: message });
}
function printStatements(): void {
  if (process.env.DROVER_COUNT_STATEMENTS !== '1') return;
  const rows = [...takeStatementCounts()].sort(([, a], [, b]) => b.ms - a.ms).slice(0, 25);
  for (const [text, { count, ms }] of rows) {
    process.stderr.write(
      `${String(count).padStart(7)} ${ms.toFixed(0).padStart(7)} ms  ${text.replace(/\s+/g, ' ').slice(0, 120)}\n`,
    );
  }
}
process.on('message', (message) => {
  if (message === 'close') void close();
  else if (message === 'profile-start' || message === 'profile-stop') void profile(message);
});
process.on('disconnect', () => void close());
process.send({ url: server.url });
