import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ResolvedAddress } from '../../src/worker/server-addresses.js';
import { ServerClient } from '../../src/worker/server-client.js';

/*
 * Issue 18: a worker given one server URL whose name resolves to several addresses fails
 * over between those addresses as it does between several URLs, and every request still
 * names the server (Host header). Two real HTTP servers on 127.0.0.1 and 127.0.0.2 (Linux
 * routes all of 127/8 to lo) on one port stand for two replicas behind one name; the
 * resolver is injected (the default is the OS's), so no /etc/hosts is touched.
 */

interface Replica {
  server: http.Server;
  hosts: string[];
}

function listen(address: string, port: number): Promise<Replica> {
  const hosts: string[] = [];
  const server = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ address }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve({ server, hosts }));
  });
}

const close = (r: Replica | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!r?.server.listening) return resolve();
    r.server.closeAllConnections();
    r.server.close(() => resolve());
  });

const v4 = (...addresses: string[]): ResolvedAddress[] =>
  addresses.map((address) => ({ address, family: 4 }));

describe('worker client: a server name with several addresses', () => {
  let one: Replica | undefined;
  let two: Replica | undefined;
  let port = 0;

  before(async () => {
    // One port free on both addresses: the first's, tried on the second until one fits.
    for (let i = 0; i < 20 && !two; i++) {
      await close(one);
      one = await listen('127.0.0.1', 0);
      port = (one.server.address() as AddressInfo).port;
      two = await listen('127.0.0.2', port).catch(() => undefined);
    }
    assert.ok(two, 'no port free on both 127.0.0.1 and 127.0.0.2');
  });

  after(async () => {
    await close(one);
    await close(two);
  });

  it('moves to the next address when one refuses, naming the server in each request', async () => {
    const failovers: string[] = [];
    const asked: string[] = [];
    const client = new ServerClient({
      servers: [`http://farm.test:${port}/`],
      resolve: (name) => {
        asked.push(name);
        return Promise.resolve(v4('127.0.0.1', '127.0.0.2'));
      },
      onFailover: (m) => failovers.push(m),
      minDelayMs: 10,
      maxDelayMs: 20,
    });
    const first = await client.request<{ address: string }>('GET', '/ping');
    assert.equal(first.address, '127.0.0.1');
    assert.deepEqual(one!.hosts, [`farm.test:${port}`]);
    assert.equal(client.server, `http://farm.test:${port} (127.0.0.1)`);

    await close(one);
    const second = await client.request<{ address: string }>('GET', '/ping', {
      retryForMs: 10_000,
    });
    assert.equal(second.address, '127.0.0.2');
    assert.deepEqual(two!.hosts, [`farm.test:${port}`]);
    assert.equal(failovers.length, 1, failovers.join('\n'));
    assert.match(
      failovers[0]!,
      new RegExp(
        `^http://farm\\.test:${port} \\(127\\.0\\.0\\.1\\) failed \\(.*(ECONNREFUSED|ECONNRESET|socket hang up).*\\); moving to http://farm\\.test:${port} \\(127\\.0\\.0\\.2\\)$`,
      ),
    );
    assert.deepEqual(asked, ['farm.test'], 'resolved once while an address answered');
  });

  it('resolves the name again once every address failed, and reaches the new ones', async () => {
    const answers = [v4('127.0.0.3', '127.0.0.4'), v4('127.0.0.3', '127.0.0.2')];
    let calls = 0;
    const failovers: string[] = [];
    const client = new ServerClient({
      servers: [`http://farm.test:${port}`],
      resolve: () => Promise.resolve(answers[Math.min(calls++, answers.length - 1)]!),
      onFailover: (m) => failovers.push(m),
      minDelayMs: 10,
      maxDelayMs: 20,
    });
    // Nothing listens on .3 or .4: both refuse, the name is read again, .2 answers.
    const answer = await client.request<{ address: string }>('GET', '/ping', {
      retryForMs: 10_000,
    });
    assert.equal(answer.address, '127.0.0.2');
    assert.equal(calls, 2);
    assert.match(failovers[0]!, /\(127\.0\.0\.3\) failed .*; moving to .*\(127\.0\.0\.4\)$/);
  });

  it('leaves a name with one address, and an IP, to the OS as before', async () => {
    one = await listen('127.0.0.1', port);
    const asked: string[] = [];
    const client = new ServerClient({
      servers: [`http://localhost:${port}`, `http://127.0.0.2:${port}`],
      resolve: (name) => {
        asked.push(name);
        return Promise.resolve(v4('127.0.0.1'));
      },
      minDelayMs: 10,
    });
    // localhost has one address: the URL is used as it is (the OS resolves it at connect
    // time, /etc/hosts here), and an IP is never looked up.
    const answer = await client.request<{ address: string }>('GET', '/ping');
    assert.equal(answer.address, '127.0.0.1');
    assert.equal(client.server, `http://localhost:${port}`);
    assert.deepEqual(asked, ['localhost']);
    assert.equal(one.hosts.at(-1), `localhost:${port}`);
  });
});
