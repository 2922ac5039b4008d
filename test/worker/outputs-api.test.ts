/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';

/* The outputs routes: upload by the node holding the execution, list, download. */

async function upload(
  t: TestServer,
  executionId: number,
  nodeId: number,
  name: string,
  data: Buffer,
  type?: string,
): Promise<{ status: number; body: any }> {
  const query = new URLSearchParams({ nodeId: String(nodeId), name, ...(type ? { type } : {}) });
  const res = await fetch(`${t.url}/api/v1/executions/${executionId}/outputs?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
  });
  return { status: res.status, body: await res.json() };
}

for (const database of TEST_DATABASES) {
  describe(`outputs (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    let otherNode: number;
    let jobId: number;
    let executionId: number;

    before(async () => {
      t = await startTestServer(database);
      nodeId = (await t.request('POST', '/api/v1/nodes', { name: 'out-1' })).body.id;
      otherNode = (await t.request('POST', '/api/v1/nodes', { name: 'out-2' })).body.id;
      jobId = (
        await t.request('POST', '/api/v1/jobs', {
          type: 'shell-script',
          parameters: { script: 'true' },
        })
      ).body.id;
      const order = await t.request('POST', `/api/v1/nodes/${nodeId}/acquire`);
      assert.equal(order.status, 200);
      executionId = order.body.execution.id;
    });
    after(async () => t?.close());

    it('stores a file from the node holding the execution and serves it back', async () => {
      const data = Buffer.from([0, 1, 2, 255, 10, 13, 0]);
      const res = await upload(t, executionId, nodeId, 'renders/a b.png', data, 'image/png');
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.jobId, jobId);
      assert.equal(res.body.executionId, executionId);
      assert.equal(res.body.name, 'renders/a b.png');
      assert.equal(res.body.type, 'image/png');
      assert.equal(res.body.size, data.length);
      assert.equal(res.body.sha256, createHash('sha256').update(data).digest('hex'));

      const list = await t.request('GET', `/api/v1/jobs/${jobId}/outputs`);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.items.map((o: any) => o.id),
        [res.body.id],
      );

      const content = await fetch(`${t.url}/api/v1/outputs/${res.body.id}/content`);
      assert.equal(content.status, 200);
      assert.equal(content.headers.get('content-type'), 'image/png');
      assert.match(content.headers.get('content-disposition') ?? '', /filename="a b\.png"/);
      assert.deepEqual(Buffer.from(await content.arrayBuffer()), data);
    });

    it('a second upload of the same name by the same task replaces the first', async () => {
      const first = await upload(t, executionId, nodeId, 'again.txt', Buffer.from('1'));
      const second = await upload(t, executionId, nodeId, 'again.txt', Buffer.from('2'));
      assert.equal(second.status, 201);
      const list = await t.request('GET', `/api/v1/jobs/${jobId}/outputs`);
      const ids = list.body.items.map((o: any) => o.id);
      assert.ok(ids.includes(second.body.id));
      assert.ok(!ids.includes(first.body.id));
      assert.equal(
        (await t.request('GET', `/api/v1/outputs/${first.body.id}/content`)).status,
        404,
      );
    });

    it('refuses names that leave the output directory', async () => {
      for (const name of ['../x', 'a/../../x', '/etc/passwd', 'a//b', './a', 'a\\b', 'C:x']) {
        const res = await upload(t, executionId, nodeId, name, Buffer.from('x'));
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'VALIDATION');
      }
    });

    it('refuses another node (409) and unknown executions (404)', async () => {
      const res = await upload(t, executionId, otherNode, 'x.txt', Buffer.from('x'));
      assert.equal(res.status, 409);
      assert.equal(res.body.error, 'STALE_LEASE');
      assert.equal((await upload(t, 999999, nodeId, 'x.txt', Buffer.from('x'))).status, 404);
      assert.equal((await t.request('GET', '/api/v1/jobs/999999/outputs')).status, 404);
      assert.equal((await t.request('GET', '/api/v1/outputs/999999/content')).status, 404);
    });

    it('refuses uploads once the execution has ended', async () => {
      const finish = await t.request('POST', `/api/v1/executions/${executionId}/finish`, {
        nodeId,
        success: true,
        exitCode: 0,
      });
      assert.equal(finish.status, 200);
      const res = await upload(t, executionId, nodeId, 'late.txt', Buffer.from('x'));
      assert.equal(res.status, 409);
    });
  });
}
