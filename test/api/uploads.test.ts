/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { purgeOutput } from '../../src/engine/outputs/output-deletion.js';
import { FileBlobStore } from '../../src/store/blob-store.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/http.js';

/*
 * Issue 12, point 8: uploads stream to the blob store (files beside SQLite, large objects in
 * PostgreSQL), hashed on the way; the limit holds while streaming, and a refused or
 * aborted upload leaves no row, no file and no staged part behind.
 */

const LIMIT = 4 * 1024 * 1024;

interface Answer {
  status: number;
  body: any;
}

/** POSTs `chunks` with node:http: a Content-Length when `length` is given, else chunked. */
function send(url: string, chunks: Buffer[], length?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        ...(length !== undefined ? { 'content-length': String(length) } : {}),
      },
    });
    request.once('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    request.once('error', reject);
    void (async () => {
      for (const chunk of chunks) {
        if (!request.write(chunk)) await new Promise((r) => request.once('drain', r));
      }
      request.end();
    })();
  });
}

for (const database of TEST_DATABASES) {
  describe(`streamed uploads (${database.name})`, () => {
    let t: TestServer;
    let staging: string;
    let nodeId: number;
    let executionId: number;

    const uploadUrl = (name: string) =>
      `${t.url}/api/v1/executions/${executionId}/outputs?nodeId=${nodeId}&name=${name}`;

    const blobRows = async () =>
      Number(
        (
          await t.engine.ctx.db
            .selectFrom('blobs')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    /** Staged parts, and on SQLite the blob files besides. */
    const filesOnDisk = (): string[] => {
      const store = t.engine.ctx.blobs;
      const dirs =
        store instanceof FileBlobStore ? [store.dir, join(store.dir, '.staging')] : [staging];
      return dirs.flatMap((dir) => {
        try {
          return readdirSync(dir).filter((n) => n !== '.staging');
        } catch {
          return [];
        }
      });
    };

    before(async () => {
      staging = mkdtempSync(join(tmpdir(), 'drover-staging-'));
      t = await startTestServer(database, {
        settings: { uploadLimit: LIMIT },
        stagingDir: staging,
      });
      nodeId = (await t.request('POST', '/api/v1/nodes', { name: 'uploader' })).body.id;
      await t.request('POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script: 'true' },
      });
      const order = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire`);
      assert.equal(order.status, 200);
      executionId = order.body.execution.id;
    });
    after(async () => {
      await t?.close();
      rmSync(staging, { recursive: true, force: true });
    });

    it('round-trips a few MB byte for byte with its sha256', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const chunks = Array.from({ length: 4 }, (_, i) =>
        data.subarray((i * data.length) / 4, ((i + 1) * data.length) / 4),
      );
      const res = await send(uploadUrl('big.bin'), chunks);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.size, data.length);
      assert.equal(res.body.sha256, createHash('sha256').update(data).digest('hex'));
      const content = await fetch(`${t.url}/api/v1/outputs/${res.body.id}/content`);
      assert.equal(content.status, 200);
      assert.equal(content.headers.get('content-length'), String(data.length));
      assert.ok(Buffer.from(await content.arrayBuffer()).equals(data), 'bytes differ');
      assert.equal(await blobRows(), 1);
      // The bytes went to the blob store, not into the row.
      const row = await t.engine.ctx.db.selectFrom('blobs').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.data.byteLength, 0);
      assert.ok(database.name === 'sqlite' ? row.file !== null : row.large_object !== null);
    });

    it('refuses an upload whose Content-Length is over the limit before reading it', async () => {
      const before = filesOnDisk();
      const data = randomBytes(LIMIT + 1);
      const res = await send(uploadUrl('over.bin'), [data], data.length);
      assert.equal(res.status, 413, JSON.stringify(res.body));
      assert.match(res.body.message, new RegExp(`limit of ${LIMIT} bytes`));
      assert.equal(await blobRows(), 1);
      assert.deepEqual(filesOnDisk(), before);
    });

    it('refuses a chunked upload once it streams past the limit, and keeps nothing of it', async () => {
      const before = filesOnDisk();
      const chunks = Array.from({ length: 5 }, () => randomBytes(1024 * 1024));
      const res = await send(uploadUrl('chunked.bin'), chunks);
      assert.equal(res.status, 413, JSON.stringify(res.body));
      assert.equal(await blobRows(), 1);
      await eventually(async () => assert.deepEqual(filesOnDisk(), before));
    });

    it('keeps nothing of an upload the client abandons halfway', async () => {
      const before = filesOnDisk();
      const request = http.request(uploadUrl('aborted.bin'), {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(3 * 1024 * 1024),
        },
      });
      request.on('error', () => undefined);
      request.write(randomBytes(1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 200));
      request.destroy();
      await eventually(async () => assert.deepEqual(filesOnDisk(), before));
      assert.equal(await blobRows(), 1);
      const list = await t.request('GET', `/api/v1/jobs/1/outputs`);
      assert.deepEqual(
        list.body.items.map((o: any) => o.name),
        ['big.bin'],
      );
      // The server is still fine: a small upload goes through.
      const small = await send(uploadUrl('small.txt'), [Buffer.from('ok')]);
      assert.equal(small.status, 201, JSON.stringify(small.body));
    });

    it("a purged output's bytes go: its large object at once, its file at the next sweep", async () => {
      const res = await send(uploadUrl('purged.bin'), [randomBytes(64 * 1024)]);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const { db, blobs } = t.engine.ctx;
      const row = await db
        .selectFrom('outputs')
        .innerJoin('blobs', 'blobs.id', 'outputs.blob_id')
        .select(['blobs.file', 'blobs.large_object'])
        .where('outputs.id', '=', res.body.id)
        .executeTakeFirstOrThrow();
      await purgeOutput(t.engine.ctx, res.body.id);
      if (blobs instanceof FileBlobStore) {
        const path = join(blobs.dir, row.file!);
        assert.ok(existsSync(path));
        // The sweep leaves young files alone (a transaction may be placing one).
        const anHourAgo = new Date(Date.now() - 3600_000);
        utimesSync(path, anHourAgo, anHourAgo);
        assert.equal(await blobs.sweep(db), 1);
        assert.equal(existsSync(path), false);
      } else {
        const left = await sql<{ n: number }>`
          select count(*)::int as n from pg_largeobject_metadata
          where oid = ${row.large_object}::bigint::oid`.execute(db);
        assert.equal(left.rows[0]!.n, 0);
      }
    });
  });
}
