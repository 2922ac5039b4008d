import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BODY_LIMIT } from '../../src/api/app.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';

/*
 * Requests that Node's HTTP parser refuses before any route sees them (a head past 16 KB,
 * a request that is not HTTP) and bodies over the limit get an answer their client can read:
 * a status line, a message in the listener's own style, no body for HEAD, and the connection
 * closed. Sent over raw sockets, to see exactly what goes on the wire.
 */

/** Writes `data`, half-closes once an answer has begun (or at once), reads until close. */
function onTheWire(url: string, data: string, endAfterAnswer = false): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // The request's body is cut short after its answer came: the parser then fails on it.
      if (endAfterAnswer && Buffer.concat(chunks).includes('\r\n\r\n')) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(data);
    if (!endAfterAnswer) socket.end();
  });
}

interface WireAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
  answers: number;
}

function parse(wire: string): WireAnswer {
  const end = wire.indexOf('\r\n\r\n');
  assert.ok(end > 0, `a whole HTTP head: ${JSON.stringify(wire.slice(0, 200))}`);
  const [statusLine, ...lines] = wire.slice(0, end).split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) \S/.exec(statusLine!);
  assert.ok(match, `a status line: ${statusLine}`);
  const headers = new Map(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return {
    status: Number(match[1]),
    headers,
    body: wire.slice(end + 4),
    answers: wire.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0,
  };
}

const bigHead = (method: string, path: string) =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`;
const notHttp = (method: string) => `${method} / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n`;

for (const database of TEST_DATABASES) {
  describe(`parser refusals on the wire (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('the main listener: 431 and 400 with a JSON message, closed; HEAD without a body', async () => {
      for (const [data, status, pattern] of [
        [bigHead('GET', '/api/v1/jobs'), 431, /larger than the 16 KB/],
        [notHttp('GET'), 400, /not valid HTTP\/1\.1: Invalid header token/],
        ['NOT-A-METHOD /\r\n\r\n', 400, /not valid HTTP\/1\.1/],
      ] as const) {
        const answer = parse(await onTheWire(t.url, data));
        assert.equal(answer.status, status);
        assert.equal(answer.headers.get('connection'), 'close');
        assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(Number(answer.headers.get('content-length')), Buffer.byteLength(answer.body));
        const body = JSON.parse(answer.body) as { error: string; message: string; detail: string };
        assert.equal(body.error, 'VALIDATION');
        assert.match(body.message, pattern);
        // Scale's and UFDL's clients read `detail`.
        assert.equal(body.detail, body.message);
      }
      for (const data of [bigHead('HEAD', '/api/v1/jobs'), notHttp('HEAD')]) {
        const wire = await onTheWire(t.url, data);
        const answer = parse(wire);
        assert.ok([400, 431].includes(answer.status));
        assert.equal(answer.body, '', 'a HEAD answer has no body');
        assert.equal(answer.answers, 1);
      }
      // The server is still up.
      const health = parse(
        await onTheWire(t.url, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      assert.equal(health.status, 200);
    });

    it('the main listener: a body over the limit is a 413 with a message', async () => {
      const answer = parse(
        await onTheWire(
          t.url,
          `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${BODY_LIMIT + 1}\r\n\r\n{"type":`,
          true,
        ),
      );
      assert.equal(answer.status, 413);
      assert.match(answer.body, /"message":"[^"]*too large/);
      assert.equal(answer.answers, 1);
    });

    it("Deadline's listener: Deadline's plain text, no body for HEAD", async () => {
      for (const [data, status, pattern] of [
        [bigHead('GET', '/api/jobs'), 431, /^Error: the request line and headers are larger/],
        [notHttp('PUT'), 400, /^Error: the request is not valid HTTP\/1\.1: Invalid header token$/],
      ] as const) {
        const answer = parse(await onTheWire(t.deadlineUrl, data));
        assert.equal(answer.status, status);
        assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
        assert.equal(answer.headers.get('connection'), 'close');
        assert.match(answer.body, pattern);
      }
      for (const data of [bigHead('HEAD', '/api/jobs'), notHttp('HEAD')]) {
        const answer = parse(await onTheWire(t.deadlineUrl, data));
        assert.ok([400, 431].includes(answer.status));
        assert.match(answer.headers.get('content-type') ?? '', /^text\/plain/);
        assert.equal(answer.body, '');
        assert.equal(answer.answers, 1);
      }
      const large = parse(
        await onTheWire(
          t.deadlineUrl,
          `POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${BODY_LIMIT + 1}\r\n\r\n{"JobInfo":`,
          true,
        ),
      );
      assert.equal(large.status, 413);
      assert.equal(large.body, 'Error: the request body is too large');
      const banner = parse(await onTheWire(t.deadlineUrl, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.equal(banner.status, 200);
      assert.match(banner.body, /^Deadline Web Service/);
    });

    it('a request answered before its body came, then cut short, gets no second answer', async () => {
      for (const [url, path] of [
        [t.url, '/api/v1/no-such-route'],
        [t.deadlineUrl, '/api/tasks'],
      ] as const) {
        for (const method of ['HEAD', 'GET']) {
          const wire = await onTheWire(
            url,
            `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789`,
            true,
          );
          const answer = parse(wire);
          assert.ok(answer.status >= 400 && answer.status < 500, wire.slice(0, 200));
          assert.equal(answer.answers, 1, `one answer to ${method} ${path}: ${wire}`);
          if (method === 'HEAD') assert.equal(answer.body, '');
        }
      }
    });
  });
}
