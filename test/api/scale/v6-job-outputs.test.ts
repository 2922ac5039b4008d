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
            { name: 'images', pattern: '**/*.png', multiple: true, required: false },
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

    /**
     * Queues a job, runs it with these uploads (name, body, type) and reports success;
     * returns its id and the execution the finish answered with.
     */
    async function runJob(
      uploads: [string, string, string][],
      options: { jobType?: any; body?: (exe: number) => Promise<void> } = {},
    ): Promise<{ id: number; exe: number; finished: any }> {
      const job = await queue(t, {
        job_type_id: (options.jobType ?? type).id,
        input: { files: { INPUT_FILE: [input.id] } },
      });
      const order = await acquire(t, nodeId);
      assert.equal(order.job.id, job.id);
      const exe = order.execution.id;
      expectStatus(await t.request('POST', `/api/v1/executions/${exe}/start`, { nodeId }), 200);
      for (const [name, data, mediaType] of uploads) {
        await upload(t, exe, nodeId, name, data, mediaType);
      }
      await options.body?.(exe);
      const finished = expectStatus(
        await t.request('POST', `/api/v1/executions/${exe}/finish`, {
          nodeId,
          success: true,
          exitCode: 0,
        }),
        200,
        'finish',
      ).body;
      return { id: job.id, exe, finished };
    }

    const run = async (
      uploads: [string, string, string][],
      body?: (exe: number) => Promise<void>,
    ): Promise<number> => (await runJob(uploads, body ? { body } : {})).id;

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

      // The legacy details merge each manifest output with its product files.
      const legacy = expectStatus(await t.request('GET', `/jobs/${id}/`), 200).body;
      assert.deepEqual(
        legacy.outputs.map((o: any) => [o.name, o.type]),
        [
          ['result', 'file'],
          ['images', 'files'],
          ['never', 'file'],
        ],
      );
      const [single, several, none] = legacy.outputs;
      assert.equal(single.value.id, job.output.files.result[0]);
      assert.equal(single.value.file_name, 'result.txt');
      assert.equal(single.value.media_type, 'text/x-result');
      assert.equal(single.value.file_size, 'the result'.length);
      assert.equal(single.value.is_operational, true);
      assert.equal(single.value.is_published, true);
      assert.equal(single.value.published, job.ended);
      assert.deepEqual(single.value.job, { id });
      assert.deepEqual(single.value.job_type, { id: type.id });
      assert.deepEqual(single.value.job_exe, { id: job.execution.id });
      assert.deepEqual(
        several.value.map((f: any) => f.id),
        job.output.files.images,
      );
      assert.equal(none.value, null, 'an output without files has no value');
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
      assert.equal(empty.status, 'FAILED', 'its required output is missing');
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

    it('a required file output that was not produced fails the execution, not retried', async () => {
      const { id, exe, finished } = await runJob([['notes.md', 'no result', 'text/markdown']]);
      assert.equal(finished.state, 'FAILED', 'the finish answers with the failed execution');
      assert.equal(finished.error.name, 'missing-required-output');
      assert.match(finished.error.message, /^result is a required output/);
      assert.match(finished.error.message, /out\/\*\.txt/);
      const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
      assert.equal(job.status, 'FAILED');
      assert.equal(job.error.name, 'missing-required-output');
      assert.equal(job.error.category, 'ALGORITHM');
      assert.equal(job.error.is_builtin, true);
      assert.equal(job.max_tries, 3);
      assert.equal(job.num_exes, 1, 'Scale never retries missing-required-output');
      assert.equal(job.execution.id, exe);
      assert.equal(job.execution.status, 'FAILED');
      assert.equal(job.execution.error.name, 'missing-required-output');
      assert.deepEqual(job.output, { files: {}, json: {} });
      const failed = expectStatus(
        await t.request('GET', `/v6/jobs/?error_category=ALGORITHM&job_type_id=${type.id}`),
        200,
      ).body;
      assert.ok(failed.results.some((j: any) => j.id === id));
    });

    it('two files for an output without multiple fail with unexpected-multiple-outputs', async () => {
      const { id, finished } = await runJob([
        ['out/a.txt', 'a', 'text/plain'],
        ['out/b.txt', 'b', 'text/plain'],
        ['top.png', 'png', 'image/png'],
      ]);
      assert.equal(finished.state, 'FAILED');
      assert.equal(finished.error.name, 'unexpected-multiple-outputs');
      assert.match(finished.error.message, /matched 2 files \(out\/a\.txt, out\/b\.txt\)/);
      const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
      assert.equal(job.status, 'FAILED');
      assert.equal(job.error.name, 'unexpected-multiple-outputs');
      assert.equal(job.error.category, 'ALGORITHM');
      assert.equal(job.num_exes, 1);
      // Scale stores no products of a failed post step: the execution's files are gone.
      assert.deepEqual(job.output, { files: {}, json: {} });
      const files = expectStatus(await t.request('GET', '/v6/files/?page_size=100'), 200).body;
      assert.ok(!files.results.some((f: any) => f.job?.id === id), JSON.stringify(files.results));
      const legacy = expectStatus(await t.request('GET', `/jobs/${id}/`), 200).body;
      assert.deepEqual(
        legacy.outputs.map((o: any) => o.value),
        [null, null, null],
      );
    });

    describe('json outputs from seed.outputs.json', () => {
      let measuring: any;

      before(async () => {
        measuring = await createJobType(
          t,
          manifest('measurer', {
            job: {
              interface: {
                command: 'true',
                inputs: { files: [{ name: 'INPUT_FILE' }], json: [] },
                outputs: {
                  files: [
                    { name: 'table', pattern: '*.csv' },
                    { name: 'report', pattern: '*.json', required: false },
                  ],
                  json: [
                    { name: 'count', type: 'integer' },
                    { name: 'label', type: 'string', key: 'the-label' },
                    { name: 'extra', type: 'object', required: false },
                  ],
                },
              },
            },
          }),
        );
      });

      const withJson = (json: string): [string, string, string][] => [
        ['t.csv', 'a,b', 'text/csv'],
        ['seed.outputs.json', json, 'application/json'],
      ];

      it('collects them into output.json and the legacy outputs', async () => {
        const { id, finished } = await runJob(
          withJson(JSON.stringify({ count: 3, 'the-label': 'hello', ignored: true })),
          { jobType: measuring },
        );
        assert.equal(finished.state, 'COMPLETED', JSON.stringify(finished));
        const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
        assert.equal(job.status, 'COMPLETED');
        assert.deepEqual(job.output.json, { count: 3, label: 'hello' });
        assert.deepEqual(
          Object.keys(job.output.files),
          ['table'],
          'seed.outputs.json is no product',
        );

        const legacy = expectStatus(await t.request('GET', `/jobs/${id}/`), 200).body;
        assert.deepEqual(
          legacy.outputs.map((o: any) => [o.name, o.type]),
          [
            ['table', 'file'],
            ['report', 'file'],
            ['count', 'property'],
            ['label', 'property'],
            ['extra', 'property'],
          ],
        );
        assert.equal(legacy.outputs[0].value.file_name, 't.csv');
        assert.equal(legacy.outputs[1].value, null);
        assert.deepEqual(
          legacy.outputs.slice(2).map((o: any) => o.value),
          [3, 'hello', null],
        );
      });

      it('fails with invalid-results-manifest when a json output is missing or mistyped', async () => {
        const cases: [string, [string, string, string][], RegExp][] = [
          ['wrong type', withJson('{"count": 2.5, "the-label": "x"}'), /'count'.*an integer/],
          ['required key missing', withJson('{"count": 2}'), /'the-label' is a required property/],
          ['not JSON', withJson('{"count": '), /not valid JSON/],
          ['not an object', withJson('[1, 2]'), /JSON object/],
          ['no file', [['t.csv', 'a,b', 'text/csv']], /not produced/],
        ];
        for (const [what, uploads, message] of cases) {
          const { id, finished } = await runJob(uploads, { jobType: measuring });
          assert.equal(finished.state, 'FAILED', what);
          assert.equal(finished.error.name, 'invalid-results-manifest', what);
          assert.match(finished.error.message, /^seed\.outputs\.json: /, what);
          assert.match(finished.error.message, message, what);
          const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
          assert.equal(job.status, 'FAILED', what);
          assert.equal(job.error.name, 'invalid-results-manifest', what);
          assert.deepEqual(job.output, { files: {}, json: {} }, what);
        }
      });

      it('a later successful execution replaces the json outputs', async () => {
        const { id } = await runJob(withJson('{"count": 1, "the-label": "first"}'), {
          jobType: measuring,
        });
        // A native requeue runs a COMPLETED job again (Scale's own requeue would not).
        expectStatus(await t.request('POST', `/api/v1/jobs/${id}/requeue`), 200);
        const order = await acquire(t, nodeId);
        const exe = order.execution.id;
        expectStatus(await t.request('POST', `/api/v1/executions/${exe}/start`, { nodeId }), 200);
        for (const [name, data, mediaType] of withJson(
          '{"count": 2, "the-label": "second", "extra": {"a": 1}}',
        )) {
          await upload(t, exe, nodeId, name, data, mediaType);
        }
        expectStatus(
          await t.request('POST', `/api/v1/executions/${exe}/finish`, { nodeId, success: true }),
          200,
        );
        const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
        assert.deepEqual(job.output.json, { count: 2, label: 'second', extra: { a: 1 } });
      });
    });
  });
}
