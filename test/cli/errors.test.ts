import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { buildOnce, drover, expectRun } from './support.js';

const database = TEST_DATABASES[0]!;

/** A port that nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('drover client errors', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
  });
  after(async () => {
    await t?.close();
  });

  it("prints the server's message for an unknown job and exits 1", async () => {
    for (const command of ['show', 'logs', 'wait']) {
      expectRun(await drover(t, [command, '424242']), 1, '', 'drover: job 424242 does not exist\n');
    }
  });

  it('explains that the server cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const message = `drover: cannot reach the Drover server at ${url}: is \`drover serve\` running?\n`;
    expectRun(await drover(url, ['jobs']), 1, '', message);
    expectRun(await drover(t, ['jobs', '--server', url]), 1, '', message);
    expectRun(await drover(url, ['submit', '--', 'echo', 'hi']), 1, '', message);
    expectRun(await drover(url, ['cancel', '1', '2']), 1, '', message);
  });

  it('refuses a job id that is not a number', async () => {
    expectRun(
      await drover(t, ['show', 'abc']),
      1,
      '',
      'drover: "abc" is not a job id (a positive whole number)\n',
    );
  });

  it('asks for a token when the server requires one', async () => {
    const secured = await startTestServer(database, { auth: true });
    try {
      const run = await drover(secured, ['jobs']);
      expectRun(
        run,
        1,
        '',
        /^drover: send "Authorization: Bearer <token>".* \(pass --token or set DROVER_TOKEN\)\n$/,
      );
      const bad = await drover(secured, ['jobs', '--token', 'wrong']);
      expectRun(bad, 1, '', /^drover: send "Authorization: Bearer <token>"/);
    } finally {
      await secured.close();
    }
  });
});
