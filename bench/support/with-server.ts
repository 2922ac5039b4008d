import { freshDatabase, type Database } from '../fresh-database.js';
import type { DbKind } from './cli.js';
import { HttpClient } from './http-client.js';
import { onCleanup } from './run-bounds.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * Runs `work` against a Drover server in a child process over a fresh database, with a
 * client of `maxSockets` connections; then stops the server and drops the database.
 */
export async function withServer<T>(
  kind: DbKind,
  maxSockets: number,
  work: (server: ServerProcess, client: HttpClient, database: Database) => Promise<T>,
): Promise<T> {
  const database = await freshDatabase(kind);
  onCleanup(database.cleanup);
  try {
    const server = await startServerProcess(database);
    const client = new HttpClient(server.api, maxSockets);
    try {
      return await work(server, client, database);
    } finally {
      client.close();
      await server.close();
    }
  } finally {
    await database.cleanup();
  }
}
