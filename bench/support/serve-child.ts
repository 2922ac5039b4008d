/*
 * The Drover server of a benchmark, in a process of its own so that its CPU is its own and
 * the figures are not taken from the clients. Started by server-process.ts; it reports its
 * URL over IPC, closes on a 'close' message, and exits if its parent goes away.
 */
import { resolveConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';

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
process.on('message', (message) => {
  if (message === 'close') void close();
});
process.on('disconnect', () => void close());
process.send({ url: server.url });
