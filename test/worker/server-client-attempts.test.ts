import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ServerClient } from '../../src/worker/server-client.js';

/*
 * A retried call tells its caller as each attempt goes out: the worker counts a claim's
 * leases from the attempt that got through. Counted from the first, a claim that hung on a
 * dead connection for 35 s and went out again was fenced the moment it answered, and its
 * task ran again elsewhere (test/e2e/worker-lease-fence.test.ts failed so in CI).
 */
describe('worker client: the attempts of a retried call', () => {
  let server: http.Server;
  let url = '';
  const arrivals: number[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      arrivals.push(performance.now());
      res.setHeader('content-type', 'application/json');
      // The first attempt finds the server unavailable; the second gets through.
      if (arrivals.length === 1) res.writeHead(503).end('{"message":"starting"}');
      else res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('calls onAttempt as each attempt goes out, the last after the failed one', async () => {
    const client = new ServerClient({ servers: [url], minDelayMs: 50, maxDelayMs: 50 });
    const attempts: number[] = [];
    const answer = await client.request<{ ok: boolean }>('POST', '/nodes/1/claims', {
      body: { max: 1 },
      onAttempt: () => attempts.push(performance.now()),
    });
    assert.deepEqual(answer, { ok: true });
    assert.equal(attempts.length, 2);
    assert.equal(arrivals.length, 2);
    // The second attempt went out after the first had been answered, and before it arrived.
    assert.ok(attempts[1]! > arrivals[0]!, 'the last attempt is counted from its own sending');
    assert.ok(attempts[1]! <= arrivals[1]!);
  });
});
