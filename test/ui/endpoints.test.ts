import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/api/app.js';
import { startTestEngine, TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';

/*
 * What the web UI needs of the server besides the native API it already had: the event
 * stream, the overview's figures, and the static files with their SPA fallback.
 */

/** Reads Server-Sent Events until `enough` says so; returns the parsed data lines. */
async function readEvents(
  url: string,
  headers: Record<string, string>,
  trigger: () => Promise<void>,
  enough: (events: Array<Record<string, unknown>>) => boolean,
): Promise<Array<Record<string, unknown>>> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Array<Record<string, unknown>> = [];
  let buffer = '';
  let triggered = false;
  const timer = setTimeout(() => abort.abort(), 5000);
  try {
    while (!enough(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      if (!triggered && buffer.includes(': connected')) {
        triggered = true;
        await trigger();
      }
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
        buffer = buffer.slice(end + 2);
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}

for (const database of TEST_DATABASES) {
  describe(`web UI endpoints (${database.name})`, () => {
    let t: TestServer;
    const submit = async (frames?: string) => {
      const res = await t.request('POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script: 'true' },
        ...(frames ? { frames, chunkSize: 1 } : {}),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as number;
    };

    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => t?.close());

    it('streams the events of one job, of the topics asked for', async () => {
      const watched = await submit();
      const other = await submit();
      const events = await readEvents(
        `${t.url}/api/v1/events?topic=job&job=${watched}`,
        {},
        async () => {
          await t.request('POST', `/api/v1/jobs/${other}/suspend`);
          await t.request('POST', `/api/v1/jobs/${watched}/suspend`);
        },
        (seen) => seen.some((e) => e['type'] === 'job.state'),
      );
      assert.ok(events.length > 0);
      for (const e of events) {
        assert.equal(e['jobId'], watched);
        assert.match(String(e['type']), /^job\./);
      }
      assert.deepEqual(
        events.filter((e) => e['type'] === 'job.state').map((e) => [e['from'], e['to']]),
        [['QUEUED', 'SUSPENDED']],
      );
    });

    it('counts jobs, tasks and nodes by state', async () => {
      const res = await t.request('GET', '/api/v1/stats/counts');
      assert.equal(res.status, 200);
      // Both jobs of the test before were suspended.
      assert.equal(res.body.jobs.SUSPENDED, 2);
      assert.equal(res.body.jobs.QUEUED, undefined);
      assert.equal(res.body.tasks.SUSPENDED, 2);
      assert.equal(res.body.tasks.QUEUED, 0);
      assert.deepEqual(res.body.nodes, {});
    });

    it('counts tasks completed per minute, oldest minute first, zeros kept', async () => {
      const id = await submit('1-3');
      const tasks = (await t.request('GET', `/api/v1/jobs/${id}/tasks`)).body.items as Array<{
        id: number;
      }>;
      await t.request('POST', `/api/v1/tasks/${tasks[0]!.id}/complete`);
      await t.request('POST', `/api/v1/tasks/${tasks[1]!.id}/complete`);
      t.clock.advance(120_000);
      await t.request('POST', `/api/v1/tasks/${tasks[2]!.id}/complete`);
      const res = await t.request('GET', '/api/v1/stats/throughput?minutes=5');
      assert.equal(res.status, 200);
      const minutes = res.body.minutes as Array<{ start: string; completed: number }>;
      assert.deepEqual(
        minutes.map((m) => m.completed),
        [0, 0, 2, 0, 1],
      );
      assert.equal(Date.parse(minutes[4]!.start) % 60_000, 0);
      assert.ok(Date.parse(minutes[4]!.start) <= t.clock.now);
      assert.equal((await t.request('GET', '/api/v1/stats/throughput?minutes=0')).status, 400);
    });
  });
}

describe('web UI endpoints with auth on', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer(TEST_DATABASES[0]!, { auth: true });
  });
  after(async () => t?.close());

  it('refuses the event stream and the figures without a token', async () => {
    for (const path of ['/api/v1/events', '/api/v1/stats/counts', '/api/v1/stats/throughput']) {
      const res = await t.request('GET', path);
      assert.equal(res.status, 401, path);
      assert.equal(res.body.error, 'UNAUTHENTICATED');
    }
  });
});

describe('web UI static files', () => {
  const root = mkdtempSync(join(tmpdir(), 'drover-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>UI</title>');
  writeFileSync(join(root, 'assets/app-1234.js'), 'console.log(1)');

  after(() => rmSync(root, { recursive: true, force: true }));

  it('serves the build, falls back to the page for browsers, and leaves the APIs alone', async () => {
    const engine = await startTestEngine(TEST_DATABASES[0]!);
    const app = await buildApp({ engine: engine.engine, auth: false, webRoot: root });
    try {
      const get = (url: string, accept = '*/*') => app.inject({ url, headers: { accept } });
      const html = 'text/html,application/xhtml+xml';

      const index = await get('/', html);
      assert.equal(index.statusCode, 200);
      assert.match(index.headers['content-type'] as string, /^text\/html/);
      assert.equal(index.headers['cache-control'], 'no-cache');

      const asset = await get('/assets/app-1234.js');
      assert.equal(asset.statusCode, 200);
      assert.match(asset.headers['content-type'] as string, /^text\/javascript/);
      assert.match(asset.headers['cache-control'] as string, /immutable/);

      assert.equal((await get('/some/page', html)).body, index.body);
      assert.equal((await get('/some/page')).statusCode, 404);
      assert.equal((await get('/assets/missing.js', html)).statusCode, 404);
      assert.equal((await get('/assets/..%2F..%2Fetc%2Fpasswd')).statusCode, 404);
      for (const path of [
        '/api/v1/nope',
        '/docs/nope.txt',
        '/metrics/x',
        '/jobs/nope/x',
        '/v6/x',
      ]) {
        const res = await get(path, html);
        assert.notEqual(res.body, index.body, path);
      }
      assert.equal((await get('/api/v1/nope', html)).json().error, 'NOT_FOUND');
      assert.equal((await get('/api/v1/health', html)).json().status, 'ok');
    } finally {
      await app.close();
      await engine.close();
    }
  });

  it('says to build the UI when web/dist is missing', async () => {
    const engine = await startTestEngine(TEST_DATABASES[0]!);
    const app = await buildApp({ engine: engine.engine, auth: false, webRoot: join(root, 'nope') });
    try {
      const res = await app.inject({ url: '/', headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /npm run build/);
      assert.equal(
        (await app.inject({ url: '/x', headers: { accept: 'text/html' } })).statusCode,
        404,
      );
    } finally {
      await app.close();
      await engine.close();
    }
  });
});
