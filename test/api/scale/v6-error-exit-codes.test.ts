/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  createJobType,
  eventually,
  expectStatus,
  manifest,
  queue,
  registerFile,
  registerNode,
  runOne,
} from './support.js';

/*
 * A Seed manifest's `errors[]` map the command's exit codes to the job type's own errors
 * (reference §8): category data ⇒ DATA, job/absent ⇒ ALGORITHM, never retried; exit 0 is
 * success; an unmapped non-zero code is algorithm-unknown. The command really runs and the
 * end is reported over the node protocol as `drover worker` reports it: a non-zero exit
 * with no error name.
 */

const ERRORS = [
  { code: 3, name: 'bad-input', title: 'Bad input', description: 'Unreadable', category: 'data' },
  { code: 4, name: 'no-converge', title: 'Did not converge', category: 'job' },
  { code: 5, name: 'crashed' },
];

const exiting = (name: string, errors: unknown[] = ERRORS) =>
  manifest(name, {
    job: {
      interface: {
        command: 'exit ${CODE}',
        inputs: { files: [{ name: 'INPUT_FILE' }], json: [{ name: 'CODE', type: 'integer' }] },
      },
      errors,
    },
  });

for (const database of TEST_DATABASES) {
  describe(`Scale manifest error codes (${database.name})`, () => {
    let t: TestServer;
    let nodeId: number;
    let type: any;
    let file: any;

    before(async () => {
      t = await startTestServer(database);
      nodeId = (await registerNode(t, 'code-node')).id;
      type = await createJobType(t, exiting('exit-codes'));
      file = await registerFile(t, 'in.txt');
    });
    after(async () => {
      await t?.close();
    });

    async function lastExecutionError(id: number): Promise<string> {
      const exes = expectStatus(await t.request('GET', `/v6/jobs/${id}/executions/`), 200).body;
      return exes.results[0].error.name;
    }

    /** Cancels a retried job, so the next run takes the next job queued. */
    async function cancel(id: number): Promise<void> {
      expectStatus(await t.request('POST', '/v6/jobs/cancel/', { job_ids: [id] }), 202);
      await eventually(async () => {
        const job = expectStatus(await t.request('GET', `/v6/jobs/${id}/`), 200).body;
        assert.equal(job.status, 'CANCELED');
      });
    }

    /** Queues a job whose command exits with `code`, runs it once, returns its details. */
    async function runWithCode(
      code: number,
      failure?: { name?: string; category?: string },
      jobType = type,
    ): Promise<any> {
      const job = await queue(t, {
        job_type_id: jobType.id,
        input: { files: { INPUT_FILE: [file.id] }, json: { CODE: code } },
      });
      const ran = await runOne(t, nodeId, failure);
      assert.equal(ran.job.id, job.id);
      assert.equal(ran.exitCode, code);
      return expectStatus(await t.request('GET', `/v6/jobs/${job.id}/`), 200).body;
    }

    it('registers the manifest errors as the job type errors', async () => {
      const body = expectStatus(
        await t.request('GET', '/v6/errors/?job_type_name=exit-codes'),
        200,
      ).body;
      assert.deepEqual(
        body.results.map((e: any) => [e.name, e.category, e.should_be_retried, e.is_builtin]),
        [
          ['bad-input', 'DATA', false, false],
          ['no-converge', 'ALGORITHM', false, false],
          ['crashed', 'ALGORITHM', false, false],
        ],
      );
    });

    it('a data error code becomes that DATA error, not retried', async () => {
      const job = await runWithCode(3);
      assert.equal(job.status, 'FAILED');
      assert.equal(job.num_exes, 1, 'not retried although tries remain');
      assert.equal(job.error.name, 'bad-input');
      assert.equal(job.error.category, 'DATA');
      assert.equal(job.error.title, 'Bad input');
      assert.equal(job.error.description, 'Unreadable');
      assert.equal(job.error.job_type_name, 'exit-codes');
      assert.equal(job.error.is_builtin, false);
      assert.equal(job.execution.error.name, 'bad-input');
      assert.equal(job.execution.task_results.tasks[0].exit_code, 3);
      // The job's error is the one the error filters find.
      const byCategory = expectStatus(
        await t.request('GET', `/v6/jobs/?error_category=DATA&job_type_id=${type.id}`),
        200,
      ).body;
      assert.deepEqual(
        byCategory.results.map((j: any) => j.id),
        [job.id],
      );
      const byId = expectStatus(
        await t.request('GET', `/v6/jobs/?error_id=${job.error.id}`),
        200,
      ).body;
      assert.deepEqual(
        byId.results.map((j: any) => j.id),
        [job.id],
      );
    });

    it('a job error code (or one without category) becomes an ALGORITHM error', async () => {
      for (const [code, name] of [
        [4, 'no-converge'],
        [5, 'crashed'],
      ] as const) {
        const job = await runWithCode(code);
        assert.equal(job.status, 'FAILED');
        assert.equal(job.num_exes, 1);
        assert.equal(job.error.name, name);
        assert.equal(job.error.category, 'ALGORITHM');
        assert.equal(job.error.job_type_name, 'exit-codes');
      }
    });

    it('an unmapped code is algorithm-unknown; exit 0 is success', async () => {
      const unmapped = await runWithCode(7);
      assert.equal(unmapped.status, 'FAILED');
      assert.equal(unmapped.error.name, 'algorithm-unknown');
      assert.equal(unmapped.error.category, 'ALGORITHM');
      assert.equal(unmapped.error.is_builtin, true);
      const ok = await runWithCode(0);
      assert.equal(ok.status, 'COMPLETED');
      assert.equal(ok.error, null);
    });

    it('an error the node names, or a SYSTEM failure, is not overridden by the code', async () => {
      const named = await runWithCode(3, { name: 'filesystem-io' });
      // filesystem-io is retried: the job went back to the queue (Scale shows no error then).
      assert.equal(named.status, 'QUEUED');
      assert.equal(await lastExecutionError(named.id), 'filesystem-io');
      await cancel(named.id);
      const system = await runWithCode(3, { category: 'SYSTEM' });
      assert.equal(system.status, 'QUEUED');
      assert.equal(await lastExecutionError(system.id), 'unknown');
      await cancel(system.id);
    });

    it('codes are per job type; a revised manifest maps only the codes it lists', async () => {
      const other = await createJobType(
        t,
        exiting('other-codes', [{ code: 3, name: 'other-bad', category: 'job' }]),
      );
      const job = await runWithCode(3, undefined, other);
      assert.equal(job.error.name, 'other-bad');
      assert.equal(job.error.category, 'ALGORITHM');

      await createJobType(
        t,
        exiting('other-codes', [{ code: 6, name: 'other-bad', category: 'data' }]),
      );
      const moved = await runWithCode(6, undefined, other);
      assert.equal(moved.error.name, 'other-bad');
      assert.equal(moved.error.category, 'DATA');
      const dropped = await runWithCode(3, undefined, other);
      assert.equal(dropped.error.name, 'algorithm-unknown');

      // The first job type keeps its own mapping of code 3.
      assert.equal((await runWithCode(3)).error.name, 'bad-input');
    });
  });
}
