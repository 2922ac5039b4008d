/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  acquire,
  createJobType,
  EXECUTION_FIELDS,
  expectDetail,
  expectStatus,
  keys,
  manifest,
  queue,
  registerFile,
  registerNode,
  runOne,
} from './support.js';

/*
 * A Seed job type whose command really runs (through the node protocol, as `drover worker`
 * runs it): queued through /v6/jobs/, completed, its executions and logs served in json,
 * txt and html; a failing one retried while its error allows and max_tries lasts.
 */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 executions and logs (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    let echo: any;

    before(async () => {
      t = await startTestServer(database);
      nodeId = (await registerNode(t, 'exe-node')).id;
      echo = await createJobType(
        t,
        manifest('echo-seed', {
          job: {
            interface: {
              command:
                'sh -c \'echo "reading ${INPUT_FILE}"; echo "level ${LEVEL}" >&2; test -n "$OUTPUT_DIR"\'',
              inputs: {
                files: [{ name: 'INPUT_FILE' }],
                json: [{ name: 'LEVEL', type: 'integer' }],
              },
            },
          },
        }),
      );
    });
    after(async () => {
      await t?.close();
    });

    it('runs the manifest command, completes, and serves execution and logs', async () => {
      const file = await registerFile(t, 'with space.txt');
      const job = await queue(t, {
        job_type_id: echo.id,
        input: { files: { INPUT_FILE: [file.id] }, json: { LEVEL: 3 } },
      });
      const ran = await runOne(t, nodeId);
      assert.equal(ran.job.id, job.id);
      assert.equal(ran.exitCode, 0);
      assert.equal(ran.stdout, 'reading /data/with space.txt\n');

      const details = expectStatus(await t.request('GET', `/v6/jobs/${job.id}/`), 200).body;
      assert.equal(details.status, 'COMPLETED');
      assert.equal(details.num_exes, 1);
      assert.deepEqual(details.node, { id: nodeId, hostname: 'exe-node.farm' });
      assert.equal(details.execution.status, 'COMPLETED');
      assert.equal(details.execution.exe_num, 1);
      assert.equal(details.execution.task_results.tasks[0].exit_code, 0);

      const exes = expectStatus(await t.request('GET', `/v6/jobs/${job.id}/executions/`), 200).body;
      assert.equal(exes.count, 1);
      assert.deepEqual(keys(exes.results[0]), EXECUTION_FIELDS);
      const exe = exes.results[0];
      assert.equal(exe.cluster_id, `scale_job_drover_${job.id}x1`);
      assert.equal(exe.timeout, 30);
      const one = expectStatus(
        await t.request('GET', `/v6/jobs/${job.id}/executions/1/`),
        200,
      ).body;
      assert.equal(one.id, exe.id);
      for (const key of ['task_results', 'resources', 'configuration', 'output'])
        assert.ok(key in one);
      expectDetail(await t.request('GET', `/v6/jobs/${job.id}/executions/2/`), 404, 'Not found.');
      const byId = expectStatus(await t.request('GET', `/v6/job-executions/${exe.id}/`), 200).body;
      assert.equal(byId.exe_num, 1);

      const logs = `/v6/job-executions/${exe.id}/logs`;
      const json = expectStatus(await t.request('GET', `${logs}/combined/`), 200).body;
      assert.equal(json.hits.total, 2);
      const sources = json.hits.hits.map((h: any) => h._source);
      assert.deepEqual(
        sources.map((s: any) => [s.stream, s.message]),
        [
          ['stdout', 'reading /data/with space.txt'],
          ['stderr', 'level 3'],
        ],
      );
      assert.deepEqual(keys(sources[0]), [
        '@timestamp',
        'message',
        'scale_job_exe',
        'scale_node',
        'scale_order_num',
        'scale_task',
        'stream',
      ]);
      assert.equal(sources[0].scale_job_exe, exe.cluster_id);
      assert.equal(sources[0].scale_node, 'exe-node.farm');
      const stdout = expectStatus(await t.request('GET', `${logs}/stdout/?format=json`), 200).body;
      assert.equal(stdout.hits.total, 1);
      const txt = expectStatus(await t.request('GET', `${logs}/stderr/?format=txt`), 200);
      assert.match(txt.headers.get('content-type')!, /^text\/plain/);
      assert.equal(txt.body, 'level 3');
      const html = expectStatus(
        await t.request('GET', `${logs}/combined/`, undefined, { accept: 'text/html' }),
        200,
      );
      assert.match(html.headers.get('content-type')!, /^text\/html/);
      assert.equal(
        html.body,
        '<html><head><style>.stdout {} .stderr {color: red;}</style></head><body>' +
          '<div class="stdout">reading /data/with space.txt</div>\n<div class="stderr">level 3</div>\n</body></html>',
      );
      const later = new Date(t.clock.now + 1000).toISOString();
      expectStatus(await t.request('GET', `${logs}/combined/?started=${later}`), 204);
      const bad = await t.request('GET', `${logs}/combined/?format=xml`);
      assert.equal(bad.status, 406);
      assert.equal(bad.body, 'xml is not a valid content type request.');
      expectDetail(
        await t.request('GET', '/v6/job-executions/99999/logs/combined/'),
        404,
        'Not found.',
      );
      expectDetail(await t.request('GET', `${logs}/other/`), 404, 'Not found.');
    });

    it("serves the process's output only: the worker's lines stay out, a silent job is 204", async () => {
      const silent = await createJobType(
        t,
        manifest('silent-seed', { job: { interface: { command: 'true', inputs: {} } } }),
      );
      /** Runs one job as `drover worker` does, with the worker's own lines around the output. */
      const run = async (output: { stream: string; text: string }[]) => {
        const job = await queue(t, { job_type_id: silent.id, input: {} });
        const order = await acquire(t, nodeId);
        assert.equal(order.job.id, job.id);
        const exe = order.execution.id;
        expectStatus(await t.request('POST', `/api/v1/executions/${exe}/start`, { nodeId }), 200);
        const lines = [
          { stream: 'worker', text: 'drover: exe-node runs ["/bin/sh","-c","true"]' },
          ...output,
          { stream: 'worker', text: 'drover: exited with code 0' },
        ];
        expectStatus(
          await t.request('POST', `/api/v1/executions/${exe}/logs`, { nodeId, lines }),
          200,
        );
        expectStatus(
          await t.request('POST', `/api/v1/executions/${exe}/finish`, {
            nodeId,
            success: true,
            exitCode: 0,
          }),
          200,
        );
        return exe as number;
      };

      const quiet = await run([]);
      for (const log of ['combined', 'stdout', 'stderr']) {
        for (const format of ['json', 'txt']) {
          const res = await t.request(
            'GET',
            `/v6/job-executions/${quiet}/logs/${log}/?format=${format}`,
          );
          expectStatus(res, 204, `${log} ${format}`);
        }
      }
      const native = expectStatus(
        await t.request('GET', `/api/v1/executions/${quiet}/logs`),
        200,
      ).body;
      assert.deepEqual(
        native.lines.map((l: any) => [l.stream, l.text]),
        [
          ['worker', 'drover: exe-node runs ["/bin/sh","-c","true"]'],
          ['worker', 'drover: exited with code 0'],
        ],
        "the native API keeps the worker's lines, marked as the worker's",
      );

      const chatty = await run([{ stream: 'stdout', text: 'only stdout' }]);
      const logs = `/v6/job-executions/${chatty}/logs`;
      const combined = expectStatus(await t.request('GET', `${logs}/combined/`), 200).body;
      assert.deepEqual(
        combined.hits.hits.map((h: any) => [h._source.stream, h._source.message]),
        [['stdout', 'only stdout']],
      );
      assert.equal(combined.hits.total, 1);
      expectStatus(await t.request('GET', `${logs}/stderr/`), 204);
      expectStatus(await t.request('GET', `${logs}/stderr/?format=txt`), 204);
      const txt = expectStatus(await t.request('GET', `${logs}/combined/?format=txt`), 200);
      assert.equal(txt.body, 'only stdout');
    });

    it('answers 204 for an execution that has not started', async () => {
      await queue(t, {
        job_type_id: echo.id,
        input: { files: { INPUT_FILE: [(await registerFile(t, 'x.txt')).id] }, json: { LEVEL: 1 } },
      });
      const order = await acquire(t, nodeId);
      expectStatus(
        await t.request('GET', `/v6/job-executions/${order.execution.id}/logs/combined/`),
        204,
      );
      const exes = (await t.request('GET', `/v6/jobs/${order.job.id}/executions/?status=RUNNING`))
        .body;
      assert.equal(exes.count, 1, 'acquired counts as RUNNING to Scale');
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/start`, { nodeId }),
        200,
      );
      expectStatus(
        await t.request('POST', `/api/v1/executions/${order.execution.id}/finish`, {
          nodeId,
          success: true,
          exitCode: 0,
        }),
        200,
      );
    });

    it('retries a failure whose error allows it until max_tries, then FAILED', async () => {
      const failing = await createJobType(
        t,
        manifest('fail-seed', {
          job: { interface: { command: 'echo trying; exit 3', inputs: {} } },
        }),
        { max_tries: 3 },
      );
      const job = await queue(t, { job_type_id: failing.id, input: {} });
      // A system error (should_be_retried) is retried.
      await runOne(t, nodeId, { name: 'task-launch' });
      let details = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(details.status, 'QUEUED');
      assert.equal(details.num_exes, 2);
      assert.equal(details.execution, null, 'the new execution has not been scheduled yet');
      await runOne(t, nodeId, { name: 'task-launch' });
      await runOne(t, nodeId, { name: 'task-launch' });
      details = (await t.request('GET', `/v6/jobs/${job.id}/`)).body;
      assert.equal(details.status, 'FAILED');
      assert.equal(details.num_exes, 3);
      assert.equal(details.max_tries, 3);
      assert.equal(details.error.name, 'task-launch');
      assert.equal(details.error.should_be_retried, true);
      assert.equal(details.execution.exe_num, 3);
      assert.equal(details.execution.status, 'FAILED');
      const exes = (await t.request('GET', `/v6/jobs/${job.id}/executions/`)).body;
      assert.deepEqual(
        exes.results.map((e: any) => e.exe_num),
        [3, 2, 1],
      );
      assert.equal(
        (await t.request('GET', `/v6/jobs/${job.id}/executions/?status=COMPLETED`)).body.count,
        0,
      );
      assert.equal(
        (await t.request('GET', `/v6/jobs/${job.id}/executions/?error_category=SYSTEM`)).body.count,
        3,
      );
      assert.equal(
        (await t.request('GET', `/v6/jobs/${job.id}/executions/?node_id=${nodeId}&page_size=2`))
          .body.next,
        `${t.url}/v6/jobs/${job.id}/executions/?node_id=${nodeId}&page=2&page_size=2`,
      );

      // An algorithm error (not retried) fails at once.
      const other = await queue(t, { job_type_id: failing.id, input: {} });
      const ran = await runOne(t, nodeId);
      assert.equal(ran.exitCode, 3);
      const failed = (await t.request('GET', `/v6/jobs/${other.id}/`)).body;
      assert.equal(failed.status, 'FAILED');
      assert.equal(failed.num_exes, 1);
      assert.equal(failed.error.name, 'algorithm-unknown');
      assert.equal(failed.error.category, 'ALGORITHM');
      const log = await t.request(
        'GET',
        `/v6/job-executions/${failed.execution.id}/logs/stdout/?format=txt`,
      );
      assert.equal(log.body, 'trying');
    });

    it('lists no executions for an unknown job (200, as Scale)', async () => {
      const body = expectStatus(await t.request('GET', '/v6/jobs/99999/executions/'), 200).body;
      assert.deepEqual(body, { count: 0, next: null, previous: null, results: [] });
    });

    it('matches job resources against nodes: unmet until a node is big enough', async () => {
      const big = await createJobType(
        t,
        manifest('big-seed', {
          job: {
            resources: {
              scalar: [
                { name: 'cpus', value: 64 },
                { name: 'gpus', value: 2 },
              ],
            },
            interface: { command: 'true', inputs: {} },
          },
        }),
      );
      assert.equal(big.unmet_resources, 'cpus,gpus');
      const job = await queue(t, { job_type_id: big.id, input: {} });
      assert.deepEqual(job.resources, { resources: { cpus: 64, mem: 128, disk: 0, gpus: 2 } });
      assert.equal(await acquire(t, nodeId), undefined, 'the small node does not take it');
      const bigNode = await registerNode(t, 'big-node', { cpus: 64, gpus: 2 });
      const order = await acquire(t, bigNode.id);
      assert.equal(order.job.id, job.id);
      const type = (await t.request('GET', '/v6/job-types/big-seed/1.0.0/')).body;
      assert.equal(type.unmet_resources, null);
    });
  });
}
