import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JOB_BOUNDS } from '../../src/domain/job-bounds.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startDeadlineTestServer, type DeadlineTestServer } from './deadline/support.js';
import { manifest } from './scale/support.js';
import { expectError, expectStatus, submit } from './support.js';

/*
 * Issue 12, point 3: numbers out of range for a column, ids and offsets past 2^63, and NUL
 * characters were 500s on PostgreSQL (and silently stored on SQLite). Every face now
 * answers them its own way with a 4xx that says what to fix, the same on both databases.
 */

const VALID = { type: 'command-line', parameters: { executable: 'echo' } };
const FIELDS = Object.keys(JOB_BOUNDS) as (keyof typeof JOB_BOUNDS)[];

for (const database of TEST_DATABASES) {
  describe(`out-of-range input on every face (${database.name})`, () => {
    let t: DeadlineTestServer;
    before(async () => {
      t = await startDeadlineTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('native submit: each bounded number past its range is a 400 naming field and range', async () => {
      for (const field of FIELDS) {
        for (const value of [3e9, -3e9, JOB_BOUNDS[field].maximum + 1]) {
          const res = await t.request('POST', '/api/v1/jobs', { ...VALID, [field]: value });
          expectError(res, 400, 'VALIDATION', `${field}=${value}`);
          assert.match(res.body.message, new RegExp(field), res.body.message);
        }
      }
    });

    it('native PATCH: the same bounds', async () => {
      const job = await submit(t, {});
      for (const field of FIELDS.filter((f) => f !== 'chunkSize')) {
        const res = await t.request('PATCH', `/api/v1/jobs/${job.id}`, { [field]: 3e9 });
        expectError(res, 400, 'VALIDATION', field);
        assert.match(res.body.message, new RegExp(field));
      }
      const maxima = Object.fromEntries(
        FIELDS.filter((f) => f !== 'chunkSize').map((f) => [f, JOB_BOUNDS[f].maximum]),
      );
      expectStatus(await t.request('PATCH', `/api/v1/jobs/${job.id}`, maxima), 200);
    });

    it('a frame past 32 bits, a NUL in a name: 400', async () => {
      const frame = await t.request('POST', '/api/v1/jobs', { ...VALID, frames: '3000000000' });
      expectError(frame, 400, 'VALIDATION');
      assert.match(
        frame.body.message,
        /frame 3000000000 is out of range \(-2147483648 to 2147483647\)/,
      );
      const nul = await t.request('POST', '/api/v1/jobs', { ...VALID, name: 'a\u0000b' });
      expectError(nul, 400, 'VALIDATION');
      assert.match(nul.body.message, /body\.name contains a NUL character/);
      const node = await t.request('POST', '/api/v1/nodes', { name: 'n\u0000' });
      expectError(node, 400, 'VALIDATION');
    });

    it('ids and offsets past 2^63: 400', async () => {
      expectError(await t.request('GET', '/api/v1/jobs/9223372036854775808'), 400, 'VALIDATION');
      expectError(await t.request('GET', '/api/v1/jobs?offset=9223372036854775808'), 400);
      expectError(await t.request('GET', '/api/v1/executions?job=9223372036854775808'), 400);
    });

    it('numbers past the largest double (1e400): 400, in a query or a body', async () => {
      // Found by the fuzz: Ajv coerces `?limit=1e400` to Infinity, which then passes the
      // schema's maximum and reached SQL (500 on every paged native list).
      for (const path of [
        '/api/v1/jobs',
        '/api/v1/job-types',
        '/api/v1/nodes',
        '/api/v1/executions',
      ]) {
        for (const query of ['limit=1e400', 'limit=-1e400', 'offset=1e400', 'offset=Infinity']) {
          const res = await t.request('GET', `${path}?${query}`);
          expectError(res, 400, 'VALIDATION', `${path}?${query}`);
          assert.match(res.body.message, /querystring\.(limit|offset) is a number too large/);
        }
      }
      // In JSON, 1e400 parses to Infinity: refused wherever it is, free-form fields too.
      const body = await t.request(
        'POST',
        '/api/v1/jobs',
        '{"type":"command-line","parameters":{"executable":"echo"},"priority":1e400}',
      );
      expectError(body, 400, 'VALIDATION');
      // A string Ajv coerces to an integer: "Infinity" in a list of ids.
      const node = expectStatus(await t.request('POST', '/api/v1/nodes', { name: 'inf' }), 200);
      const heartbeat = await t.request('POST', `/api/v1/nodes/${node.body.id}/heartbeat`, {
        executions: ['Infinity'],
      });
      expectError(heartbeat, 400, 'VALIDATION');
      assert.match(heartbeat.body.message, /body\.executions\[0\] is a number too large/);
      const finishes = await t.request('POST', `/api/v1/nodes/${node.body.id}/finishes`, {
        finishes: [{ executionId: '-Infinity', success: true }],
      });
      expectError(finishes, 400, 'VALIDATION');
      // Scale reads its own parameters: a page_size it cannot read is the default, as DRF's.
      const jobs = await t.request('GET', '/v6/jobs/?page_size=1e400');
      assert.equal(jobs.status, 200, JSON.stringify(jobs.body));
      assert.ok(Array.isArray(jobs.body.results));
    });

    it("Scale: a page past the end is DRF's 404, a size past 2^53 a 400", async () => {
      const page = await t.request('GET', '/v6/jobs/?page=99999999999999999999');
      assert.equal(page.status, 404);
      assert.deepEqual(page.body, { detail: 'Invalid page.' });
      const legacy = await t.request('GET', '/jobs/?page=99999999999999999999');
      assert.equal(legacy.status, 404);
      const file = await t.request('POST', '/v6/files/', {
        file_name: 'big.txt',
        file_path: '/data/big.txt',
        file_size: 1e20,
      });
      assert.equal(file.status, 400, JSON.stringify(file.body));
      assert.match(file.body.detail, /file_size/);
    });

    it('Scale: long file texts and mistyped manifest errors are 400s (found by the fuzz)', async () => {
      // A 100,000-character file name passed PostgreSQL's limit for an index entry (500);
      // SQLite stored it. Scale's model allows 250.
      const long = await t.request('POST', '/v6/files/', {
        file_name: 'x'.repeat(100_000),
        file_path: '/data/x',
      });
      assert.equal(long.status, 400, JSON.stringify(long.body).slice(0, 300));
      assert.match(long.body.detail, /file_name may be at most 250 characters/);
      const path = await t.request('POST', '/v6/files/', {
        file_name: 'x',
        file_path: '/' + 'p'.repeat(2000),
      });
      assert.equal(path.status, 400);
      assert.match(path.body.detail, /file_path may be at most 1000 characters/);
      // A manifest error whose title is no string reached the driver (500 on SQLite).
      for (const [error, pattern] of [
        [{ code: 1, name: 'e', title: {} }, /is not of type 'string'/],
        [{ code: 3e9, name: 'e' }, /out of range for an exit code/],
        [{ code: 1, name: 'e'.repeat(300) }, /not a string of 1 to 255 characters/],
      ] as const) {
        const res = await t.request('POST', '/v6/job-types/', {
          manifest: manifest('errs', { job: { errors: [error] } }),
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.detail, pattern);
      }
    });

    it('Deadline: Priority 3e9 is a 400 with a plain message', async () => {
      const res = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'p', Priority: 3e9 },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /^Error: .*priority/i);
      // And on update: a save of Props.Pri, and the machine limit commands.
      const job = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'p' },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      assert.equal(job.status, 200, job.text);
      for (const body of [
        { Command: 'save', Job: { _id: job.body._id, Props: { Pri: 3e9 } } },
        { Command: 'save', Job: { _id: job.body._id, Props: { Pri: -3e9 } } },
        { Command: 'setjobmachinelimit', JobID: job.body._id, Limit: 3e9 },
      ]) {
        const update = await t.dl('PUT', '/api/jobs', body);
        assert.equal(update.status, 400, `${JSON.stringify(body)}: ${update.text}`);
        assert.match(update.text, /^Error: .*(priority|Pri|machineLimit)/);
      }
      const nul = await t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Name: 'a\u0000b' },
        PluginInfo: { Executable: '/bin/true' },
        AuxFiles: [],
      });
      assert.equal(nul.status, 400, nul.text);
      assert.match(nul.text, /^Error: .*NUL/);
    });

    it('job-type definitions: numbers past their bounds are a 400 on create and revise', async () => {
      // The native schema stated these; the definition itself did not, so a UFDL import
      // (no schema in front) stored a priority of 3e9 and a cpus of 1e20.
      const definition = { command: ['echo'] };
      const bad: [string, Record<string, unknown>][] = [
        ['priority', { priority: 3e9 }],
        ['maxTries', { maxTries: 3e9 }],
        ['taskTimeout', { taskTimeout: 1e20 }],
        ['resources.cpus', { resources: { cpus: 1e20 } }],
      ];
      const created = await t.request('POST', '/api/v1/job-types', {
        name: 'bounded',
        definition,
      });
      expectStatus(created, 201);
      for (const [field, extra] of bad) {
        const create = await t.request('POST', '/api/v1/job-types', {
          name: `bounded-${field.replace('.', '-')}`,
          definition: { ...definition, ...extra },
        });
        expectError(create, 400, 'VALIDATION', `native create ${field}`);
        assert.match(create.body.message, new RegExp(field.replace('.', '\\.')));
        const revise = await t.request('POST', `/api/v1/job-types/${created.body.id}/revisions`, {
          definition: extra,
        });
        expectError(revise, 400, 'VALIDATION', `native revise ${field}`);
        const imported = await t.request('POST', '/v1/job-templates/import', {
          name: 'bounded',
          definition: { ...definition, ...extra },
        });
        assert.equal(
          imported.status,
          400,
          `UFDL import ${field}: ${JSON.stringify(imported.body)}`,
        );
        assert.match(imported.body.detail, new RegExp(field.replace('.', '\\.')));
      }
      // An output whose type is no string was stored, and then every GET of UFDL's job
      // types was a 500 (found by the fuzz).
      const output = await t.request('POST', '/v1/job-templates/import', {
        name: 'bounded',
        definition: { ...definition, outputs: [{ name: 'o', type: 3e9 }] },
      });
      assert.equal(output.status, 400, JSON.stringify(output.body));
      assert.match(output.body.detail, /output "o" must have a type/);
      assert.equal((await t.request('GET', '/v1/job-types/1')).status, 404);
      // Scale: the manifest's timeout, the configuration's priority, max_tries, resources.
      const scale = async (name: string, body: Record<string, unknown>, pattern: RegExp) => {
        const res = await t.request('POST', '/v6/job-types/', body);
        assert.equal(res.status, 400, `Scale ${name}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.detail, pattern);
      };
      await scale(
        'timeout',
        { manifest: manifest('b1', { job: { timeout: 3e9 } }) },
        /taskTimeout/,
      );
      await scale('max_tries', { manifest: manifest('b2'), max_tries: 3e9 }, /max_?tries/i);
      await scale(
        'priority',
        { manifest: manifest('b3'), configuration: { priority: 3e9 } },
        /priority/,
      );
      await scale(
        'resources',
        {
          manifest: manifest('b4', {
            job: { resources: { scalar: [{ name: 'cpus', value: 1e20 }] } },
          }),
        },
        /resources\.cpus/,
      );
      // The largest values in range are taken.
      expectStatus(
        await t.request('POST', '/api/v1/job-types', {
          name: 'bounded-max',
          definition: {
            ...definition,
            priority: JOB_BOUNDS.priority.maximum,
            maxTries: JOB_BOUNDS.maxTries.maximum,
            taskTimeout: JOB_BOUNDS.taskTimeout.maximum,
          },
        }),
        201,
      );
    });
  });
}
