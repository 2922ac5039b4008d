/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  acquire,
  createJobType,
  expectStatus,
  manifest,
  queue,
  registerFile,
  registerNode,
} from './support.js';

/*
 * A Seed job's output Data JSON (reference §6, §9): every file the task leaves in its
 * output directory is uploaded over the node protocol as `drover worker` does; those whose
 * name matches a manifest output's glob pattern become Scale files (PRODUCT), listed under
 * that output in the job detail's `output.files` and served by /v6/files/{id}/.
 */

const producing = (name: string) =>
  manifest(name, {
    job: {
      interface: {
        command: 'true',
        inputs: { files: [{ name: 'INPUT_FILE' }], json: [] },
        outputs: {
          files: [
            { name: 'result', pattern: 'out/*.txt', mediaType: 'text/x-result' },
            { name: 'images', pattern: '**/*.png', multiple: true },
            { name: 'never', pattern: '*.nothing', required: false },
          ],
        },
      },
    },
  });

async function upload(
  t: TestServer,
  executionId: number,
  nodeId: number,
  name: string,
  data: string,
  type: string,
): Promise<any> {
  const query = new URLSearchParams({ nodeId: String(nodeId), name, type });
  const res = await fetch(`${t.url}/api/v1/executions/${executionId}/outputs?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(data),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

for (const database of TEST_DATABASES) {
  describe(`Scale job outputs (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    let type: any;
    let input: any;

    before(async () => {
      t = await startTestServer(database);
      nodeId = (await registerNode(t, 'output-node')).id;
      type = await createJobType(t, producing('producer'));
      input = await registerFile(t, 'in.txt');
    });
    after(async () => {
      await t?.close();
    });

    /** Queues a job, runs it with these uploads (name, body, type), returns its id. */
    async function run(
      uploads: [string, string, string][],
      body: (exe: number) => Promise<void> = async () => {},
    ): Promise<number> {
      const job = await queue(t, {
        job_type_id: type.id,
        input: { files: { INPUT_FILE: [input.id] } },
      });
      const order = await acquire(t, nodeId);
      assert.equal(order.job.id, job.id);
      const exe = order.execution.id;
      expectStatus(await t.request('POST', `/api/v1/executions/${exe}/start`, { nodeId }), 200);
      for (const [name, data, mediaType] of uploads) {
        await upload(t, exe, nodeId, name, data, mediaType);
      }
      await body(exe);
      expectStatus(
        await t.request('POST', `/api/v1/executions/${exe}/finish`, {
          nodeId,
          success: true,
          exitCode: 0,
        }),
        200,
        'finish',
      );
      return job.id;
    }

    it('lists the matching outputs as product files under their manifest output', async () => {
      const id = await run([
        ['out/result.txt', 'the result', 'text/plain'],
        ['out/log.csv', 'a,b', 'text/csv'],
        ['a/b/c.png', 'png!', 'image/png'],
        ['top.png', 'png', 'image/png'],
        ['out/deeper/x.txt', 'not out/*.txt', 'text/plain'],
      ]);
      const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
      assert.equal(job.status, 'COMPLETED');
      assert.deepEqual(Object.keys(job.output).sort(), ['files', 'json']);
      assert.deepEqual(Object.keys(job.output.files).sort(), ['images', 'result']);
      assert.deepEqual(job.output.json, {});
      assert.equal(job.output.files.result.length, 1);
      assert.equal(job.output.files.images.length, 2);

      const result = expectStatus(
        await t.request('GET', `/v6/files/${job.output.files.result[0]}/`),
        200,
      ).body;
      assert.equal(result.file_name, 'result.txt');
      assert.equal(result.file_path, 'out/result.txt');
      assert.equal(result.file_type, 'PRODUCT');
      assert.equal(result.media_type, 'text/x-result', "the manifest's mediaType");
      assert.equal(result.file_size, 'the result'.length);
      assert.equal(result.is_deleted, false);
      assert.deepEqual(result.job, { id });

      const images = await Promise.all(
        job.output.files.images.map(
          async (fileId: number) =>
            expectStatus(await t.request('GET', `/v6/files/${fileId}/`), 200).body,
        ),
      );
      assert.deepEqual(
        images.map((f: any) => [f.file_path, f.media_type, f.file_type]),
        [
          ['a/b/c.png', 'image/png', 'PRODUCT'],
          ['top.png', 'image/png', 'PRODUCT'],
        ],
      );

      // The outputs no pattern matches are no Scale files.
      const files = expectStatus(await t.request('GET', '/v6/files/?page_size=100'), 200).body;
      const paths = files.results.map((f: any) => f.file_path);
      assert.ok(!paths.includes('out/log.csv'), JSON.stringify(paths));
      assert.ok(!paths.includes('out/deeper/x.txt'), JSON.stringify(paths));
      // They are still Drover outputs of the job.
      const outputs = expectStatus(await t.request('GET', `/api/v1/jobs/${id}/outputs`), 200).body;
      assert.equal(outputs.items.length, 5);
    });

    it('an output uploaded again replaces its file; a job without matches has none', async () => {
      const id = await run([['out/result.txt', 'one', 'text/plain']], async (exe) => {
        await upload(t, exe, nodeId, 'out/result.txt', 'two!', 'text/plain');
      });
      const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
      assert.equal(job.output.files.result.length, 1);
      const file = expectStatus(
        await t.request('GET', `/v6/files/${job.output.files.result[0]}/`),
        200,
      ).body;
      assert.equal(file.file_size, 4, 'the newest upload');
      const all = expectStatus(await t.request('GET', '/v6/files/?page_size=100'), 200).body;
      const replaced = all.results.filter(
        (f: any) => f.file_path === 'out/result.txt' && f.job?.id === id,
      );
      assert.deepEqual(
        replaced.map((f: any) => f.id),
        [file.id],
        'the first upload is no longer listed',
      );

      const none = await run([['notes.md', 'nothing', 'text/markdown']]);
      const empty = expectStatus(await t.request('GET', `/v6/jobs/${none}/`), 200).body;
      assert.deepEqual(empty.output, { files: {}, json: {} });
    });

    it('a job with product files can be purged', async () => {
      const id = await run([['out/result.txt', 'gone', 'text/plain']]);
      const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
      const fileId = job.output.files.result[0];
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${id}`), 204);
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${id}?purge=true`), 204);
      const file = expectStatus(await t.request('GET', `/v6/files/${fileId}/`), 200).body;
      assert.equal(file.is_deleted, true);
    });
  });
}
