/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ensureBuilt,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../../worker/support.js';
import { manifest } from './support.js';

/*
 * End to end: a real `drover serve` and a real `drover worker` process. A Seed job type's
 * command, queued through /v6/jobs/, runs on the worker and completes; its logs come back
 * through the Scale log endpoint in all three formats. A command exiting with a code of the
 * manifest's `errors[]` fails the job with that error. The files a command leaves in its
 * output directory become products and json outputs, or fail the job they do not satisfy.
 */

describe('Scale job on a real drover worker', { timeout: 180_000 }, () => {
  let e2e: E2eServer;
  let worker: WorkerProcess;

  before(async () => {
    ensureBuilt();
    e2e = await startE2eServer();
    worker = startWorker(e2e.url, 'scale-e2e', join(e2e.dataDir, 'w'));
  });
  after(async () => {
    await worker?.stop();
    await e2e?.close();
  });

  it('queues through /v6/jobs/, completes on the worker, serves the logs', async () => {
    const type = await e2e.api('POST', '/v6/job-types/', {
      manifest: manifest('e2e-seed', {
        job: {
          interface: {
            command:
              'echo "file=${INPUT_FILE} n=${COUNT}"; echo warn >&2; ls -d "$OUTPUT_DIR" >/dev/null',
            inputs: { files: [{ name: 'INPUT_FILE' }], json: [{ name: 'COUNT', type: 'integer' }] },
          },
        },
      }),
    });
    assert.equal(type.status, 201, JSON.stringify(type.body));
    const file = await e2e.api('POST', '/v6/files/', {
      file_name: 'in.txt',
      file_path: '/tmp/in.txt',
    });
    assert.equal(file.status, 201);
    const queued = await e2e.api('POST', '/v6/jobs/', {
      job_type_id: type.body.id,
      input: { files: { INPUT_FILE: [file.body.id] }, json: { COUNT: 4 } },
    });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    const job = await waitFor(
      'the job to end',
      60_000,
      async () => {
        const res = await e2e.api('GET', `/v6/jobs/${queued.body.id}/`);
        return ['COMPLETED', 'FAILED'].includes(res.body.status) ? res.body : undefined;
      },
      () => worker.output(),
    );
    assert.equal(job.status, 'COMPLETED', worker.output());
    const exe = job.execution.id;
    const logs = `/v6/job-executions/${exe}/logs`;
    const json = await waitFor('the log lines', 10_000, async () => {
      const res = await e2e.api('GET', `${logs}/combined/`);
      return res.status === 200 && res.body.hits.total >= 2 ? res.body : undefined;
    });
    const messages = json.hits.hits.map((h: any) => [h._source.stream, h._source.message]);
    assert.ok(
      messages.some(([s, m]: string[]) => s === 'stdout' && m === 'file=/tmp/in.txt n=4'),
      JSON.stringify(messages),
    );
    assert.ok(messages.some(([s, m]: string[]) => s === 'stderr' && m === 'warn'));
    assert.ok(
      messages.every(([, m]: string[]) => !String(m).startsWith('drover:')),
      `the worker's lines are not the job's: ${JSON.stringify(messages)}`,
    );
    const txt = await e2e.api('GET', `${logs}/stdout/?format=txt`);
    assert.match(String(txt.body), /file=\/tmp\/in.txt n=4/);
    const html = await e2e.api('GET', `${logs}/stderr/?format=html`);
    assert.match(String(html.body), /<div class="stderr">warn<\/div>/);
  });

  it('a job that prints nothing answers 204 on every log route; the worker keeps its lines', async () => {
    const type = await e2e.api('POST', '/v6/job-types/', {
      manifest: manifest('e2e-silent', { job: { interface: { command: 'true', inputs: {} } } }),
    });
    assert.equal(type.status, 201, JSON.stringify(type.body));
    const queued = await e2e.api('POST', '/v6/jobs/', { job_type_id: type.body.id, input: {} });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    const job = await waitFor(
      'the silent job to end',
      60_000,
      async () => {
        const res = await e2e.api('GET', `/v6/jobs/${queued.body.id}/`);
        return ['COMPLETED', 'FAILED'].includes(res.body.status) ? res.body : undefined;
      },
      () => worker.output(),
    );
    assert.equal(job.status, 'COMPLETED', worker.output());
    const exe = job.execution.id;
    // The worker's last line comes with its report of the end: once it is there, all is.
    const native = await waitFor('the worker lines', 10_000, async () => {
      const res = await e2e.api('GET', `/api/v1/executions/${exe}/logs`);
      return res.body.lines.some((l: any) => /exited with code 0/.test(l.text))
        ? res.body
        : undefined;
    });
    assert.ok(native.lines.length > 0);
    for (const l of native.lines) assert.equal(l.stream, 'worker', JSON.stringify(l));
    for (const log of ['combined', 'stdout', 'stderr']) {
      for (const format of ['json', 'txt']) {
        const res = await e2e.api('GET', `/v6/job-executions/${exe}/logs/${log}/?format=${format}`);
        assert.equal(res.status, 204, `${log} ${format}: ${JSON.stringify(res.body)}`);
      }
    }
  });

  it("fails with the job type's error of the manifest exit code", async () => {
    const type = await e2e.api('POST', '/v6/job-types/', {
      manifest: manifest('e2e-codes', {
        job: {
          interface: {
            command: 'exit ${CODE}',
            inputs: { files: [{ name: 'INPUT_FILE' }], json: [{ name: 'CODE', type: 'integer' }] },
          },
          errors: [{ code: 3, name: 'e2e-bad-data', title: 'Bad data', category: 'data' }],
        },
      }),
    });
    assert.equal(type.status, 201, JSON.stringify(type.body));
    const file = await e2e.api('POST', '/v6/files/', { file_name: 'c.txt', file_path: '/tmp/c' });
    const ended = async (code: number) => {
      const queued = await e2e.api('POST', '/v6/jobs/', {
        job_type_id: type.body.id,
        input: { files: { INPUT_FILE: [file.body.id] }, json: { CODE: code } },
      });
      assert.equal(queued.status, 201, JSON.stringify(queued.body));
      return waitFor(
        `the job exiting ${code} to end`,
        60_000,
        async () => {
          const res = await e2e.api('GET', `/v6/jobs/${queued.body.id}/`);
          return ['COMPLETED', 'FAILED'].includes(res.body.status) ? res.body : undefined;
        },
        () => worker.output(),
      );
    };
    const mapped = await ended(3);
    assert.equal(mapped.status, 'FAILED');
    assert.equal(mapped.num_exes, 1, 'a manifest error is not retried');
    assert.equal(mapped.error.name, 'e2e-bad-data');
    assert.equal(mapped.error.category, 'DATA');
    const unmapped = await ended(9);
    assert.equal(unmapped.status, 'FAILED');
    assert.equal(unmapped.error.name, 'algorithm-unknown');
  });

  it('uploads the outputs: seed.outputs.json gives the json outputs; a missing one fails', async () => {
    const type = await e2e.api('POST', '/v6/job-types/', {
      manifest: manifest('e2e-outputs', {
        job: {
          interface: {
            command:
              'if [ "$MODE" = ok ]; then echo measured > "$OUTPUT_DIR/result.txt"; printf \'{"total": 7}\' > "$OUTPUT_DIR/seed.outputs.json"; fi',
            inputs: { files: [{ name: 'INPUT_FILE' }], json: [{ name: 'MODE', type: 'string' }] },
            outputs: {
              files: [{ name: 'result', pattern: '*.txt', mediaType: 'text/x-measure' }],
              json: [{ name: 'total', type: 'integer' }],
            },
          },
        },
      }),
    });
    assert.equal(type.status, 201, JSON.stringify(type.body));
    const file = await e2e.api('POST', '/v6/files/', { file_name: 'o.txt', file_path: '/tmp/o' });
    const ended = async (mode: string) => {
      const queued = await e2e.api('POST', '/v6/jobs/', {
        job_type_id: type.body.id,
        input: { files: { INPUT_FILE: [file.body.id] }, json: { MODE: mode } },
      });
      assert.equal(queued.status, 201, JSON.stringify(queued.body));
      return waitFor(
        `the ${mode} job to end`,
        60_000,
        async () => {
          const res = await e2e.api('GET', `/v6/jobs/${queued.body.id}/`);
          return ['COMPLETED', 'FAILED'].includes(res.body.status) ? res.body : undefined;
        },
        () => worker.output(),
      );
    };
    const ok = await ended('ok');
    assert.equal(ok.status, 'COMPLETED', worker.output());
    assert.deepEqual(ok.output.json, { total: 7 });
    assert.equal(ok.output.files.result.length, 1);
    const product = await e2e.api('GET', `/v6/files/${ok.output.files.result[0]}/`);
    assert.equal(product.body.file_name, 'result.txt');
    assert.equal(product.body.media_type, 'text/x-measure');

    const missing = await ended('nothing');
    assert.equal(missing.status, 'FAILED');
    assert.equal(missing.error.name, 'missing-required-output');
    await waitFor('the worker to tell', 10_000, async () =>
      /failed on the server: missing-required-output/.test(worker.output()) ? true : undefined,
    );
  });
});
