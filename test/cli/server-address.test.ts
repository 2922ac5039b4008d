import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { buildOnce, drover, expectRun, submitJob } from './support.js';

/*
 * --server as people type it (host:port, no scheme), and the server's own words on any
 * answer that is not a 2xx, from every client command.
 */

/** An HTTP server that answers every request with this status, type and body. */
async function answering(status: number, type: string, body: string): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': type });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const hostPort = (server: Server): string => `127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Every client command that asks the server something, with arguments it accepts. */
const COMMANDS: readonly string[][] = [
  ['jobs'],
  ['show', '1'],
  ['logs', '1'],
  ['wait', '1'],
  ['outputs', '1'],
  ['suspend', '1'],
  ['retry', '1'],
  ['modify', '1', '--priority', '1'],
  ['task', 'list', '1'],
  ['task', 'show', '1', '0'],
  ['task', 'logs', '1', '0'],
  ['task', 'requeue', '1', '0-3'],
  ['nodes'],
  ['types'],
  ['submit', '--', 'echo', 'hi'],
];

for (const database of TEST_DATABASES) {
  describe(`drover --server and server errors (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('takes host:port without a scheme, as an option or from DROVER_SERVER', async () => {
      const job = await submitJob(t, { name: 'no scheme' });
      const address = t.url.replace(/^http:\/\//, '');
      const listed = await drover('http://127.0.0.1:1', ['jobs', '--server', address]);
      expectRun(listed, 0, new RegExp(`\\n +${job.id} +no scheme `));
      const fromEnv = await drover(address, ['task', 'list', String(job.id)]);
      expectRun(fromEnv, 0, /^TASK +FRAMES +STATE/);
      expectRun(await drover(`${t.url}/`, ['show', String(job.id)]), 0, /^Job: +\d+ +no scheme\n/);
    });

    it('refuses a server that is not http or https, and names the URL it could not reach', async () => {
      expectRun(
        await drover('ftp://files.example', ['jobs']),
        1,
        '',
        'drover: --server "ftp://files.example" is not an http:// or https:// URL; give one, or host:port for http\n',
      );
      const closed = await answering(200, 'application/json', '{}');
      const address = hostPort(closed);
      await new Promise((resolve) => closed.close(resolve));
      expectRun(
        await drover(address, ['task', 'list', '1']),
        1,
        '',
        `drover: cannot reach the Drover server at http://${address}: is \`drover serve\` running?\n`,
      );
    });
  });
}

describe('drover prints the server message of any answer that is not a 2xx', () => {
  const servers: Server[] = [];
  before(async () => {
    await buildOnce();
  });
  after(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });

  it("prints the server's message from every command", async () => {
    const busy = await answering(
      503,
      'application/json',
      JSON.stringify({ error: 'UNAVAILABLE', message: 'the server is not ready: migrating' }),
    );
    servers.push(busy);
    for (const args of COMMANDS) {
      const run = await drover(hostPort(busy), args);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      // Commands that act on several jobs name the job the answer is about.
      assert.match(
        run.stderr,
        /^drover: (job 1: )?the server is not ready: migrating\n$/,
        `drover ${args.join(' ')}`,
      );
    }
  });

  it('prints the status line when the answer is not the native API (a proxy page)', async () => {
    const proxy = await answering(502, 'text/html', '<html><body>Bad Gateway</body></html>');
    servers.push(proxy);
    for (const args of [['jobs'], ['task', 'list', '1'], ['retry', '1']]) {
      expectRun(
        await drover(hostPort(proxy), args),
        1,
        '',
        /^drover: (job 1: )?the server answered 502 Bad Gateway\n$/,
      );
    }
  });
});
