import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { buildDeadlineApp } from '../../src/api/deadline/index.js';
import { startTestEngine, TEST_DATABASES, type TestEngine } from '../helpers/databases.js';

/*
 * Issue 17, health: one structured log line per request, with a request id that the answer
 * carries in X-Request-Id and, on the native API, in its error body. A proxy's own id is
 * kept when it is a plain token, and replaced when it could forge a log line. The path is
 * logged without its query string.
 */

const urlOf = (app: FastifyInstance) => {
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
};

for (const database of TEST_DATABASES) {
  describe(`request ids and the request log (${database.name})`, () => {
    let t: TestEngine;
    let app: FastifyInstance;
    let deadline: FastifyInstance;
    let archiveDir: string;
    const lines: Record<string, unknown>[] = [];

    before(async () => {
      t = await startTestEngine(database);
      app = await buildApp({
        engine: t.engine,
        auth: false,
        logLevel: 'info',
        logStream: { write: (line) => void lines.push(JSON.parse(line)) },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      archiveDir = mkdtempSync(join(tmpdir(), 'drover-reqlog-'));
      deadline = await buildDeadlineApp({ engine: t.engine, auth: false, archiveDir });
      await deadline.listen({ host: '127.0.0.1', port: 0 });
    });

    after(async () => {
      await app?.close();
      await deadline?.close();
      await t?.close();
      if (archiveDir) rmSync(archiveDir, { recursive: true, force: true });
    });

    const requestLines = (id: string) =>
      lines.filter((l) => l.requestId === id && l.msg === 'request');
    /** The line is written once the answer has gone, so it may trail the answer a little. */
    const linesOf = async (id: string) => {
      for (let i = 0; i < 200 && requestLines(id).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return requestLines(id);
    };

    it('answers an id, logs one line with it, and puts it in error bodies', async () => {
      const ok = await fetch(`${urlOf(app)}/api/v1/jobs?limit=1`);
      assert.equal(ok.status, 200);
      const okId = ok.headers.get('x-request-id');
      assert.match(okId ?? '', /^[0-9a-f-]{36}$/);
      const [line, ...more] = await linesOf(okId!);
      assert.deepEqual(more, []);
      assert.equal(line?.method, 'GET');
      assert.equal(line?.route, '/api/v1/jobs');
      assert.equal(line?.path, '/api/v1/jobs');
      assert.equal(line?.status, 200);
      assert.equal(typeof line?.ms, 'number');
      assert.equal(line?.level, 30);

      const missing = await fetch(`${urlOf(app)}/api/v1/jobs/999999`);
      assert.equal(missing.status, 404);
      const body = (await missing.json()) as Record<string, unknown>;
      assert.equal(body.error, 'NOT_FOUND');
      assert.equal(body.requestId, missing.headers.get('x-request-id'));
      assert.equal((await linesOf(body.requestId as string))[0]?.status, 404);

      const bad = await fetch(`${urlOf(app)}/api/v1/jobs?limit=nope`);
      assert.equal(bad.status, 400);
      const badBody = (await bad.json()) as Record<string, unknown>;
      assert.equal(badBody.error, 'VALIDATION');
      assert.equal(badBody.requestId, bad.headers.get('x-request-id'));

      const noRoute = await fetch(`${urlOf(app)}/api/v1/no-such-thing`);
      const noRouteBody = (await noRoute.json()) as Record<string, unknown>;
      assert.equal(noRoute.status, 404);
      assert.equal(noRouteBody.requestId, noRoute.headers.get('x-request-id'));
      assert.equal((await linesOf(noRouteBody.requestId as string))[0]?.route, null);
    });

    it("keeps a proxy's plain id and replaces one that is not", async () => {
      const kept = await fetch(`${urlOf(app)}/api/v1/health`, {
        headers: { 'x-request-id': 'haproxy-7f3a:42' },
      });
      assert.equal(kept.headers.get('x-request-id'), 'haproxy-7f3a:42');
      assert.equal((await linesOf('haproxy-7f3a:42')).length, 1);
      for (const forged of ['a b', 'x'.repeat(65), 'id"}{"level":60']) {
        const res = await fetch(`${urlOf(app)}/api/v1/health`, {
          headers: { 'x-request-id': forged },
        });
        assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, forged);
      }
    });

    it("logs a worker's node protocol at debug, not info", async () => {
      const registered = await fetch(`${urlOf(app)}/api/v1/nodes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'quiet-node' }),
      });
      assert.equal(registered.status, 200);
      const { id } = (await registered.json()) as { id: number };
      const claim = await fetch(`${urlOf(app)}/api/v1/nodes/${id}/claims`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ max: 1 }),
      });
      assert.equal(claim.status, 200);
      const claimId = claim.headers.get('x-request-id')!;
      assert.match(claimId, /^[0-9a-f-]{36}$/);
      // A person's request after it is logged; by then the claim's line would be too.
      const later = await fetch(`${urlOf(app)}/api/v1/health`);
      assert.equal((await linesOf(later.headers.get('x-request-id')!)).length, 1);
      assert.deepEqual(requestLines(claimId), []);
      assert.deepEqual(requestLines(registered.headers.get('x-request-id')!), []);
    });

    it('the Deadline face answers an id too', async () => {
      const res = await fetch(`${urlOf(deadline)}/api/jobs?JobID=nope`);
      await res.text();
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });
  });
}
