import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_JSON_DEPTH } from '../../src/api/input-guards.js';
import { MAX_FILTER_EXPRESSIONS } from '../../src/api/ufdl/filter-spec.js';
import { MAX_DEPENDENCIES } from '../../src/domain/job-bounds.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { startDeadlineTestServer } from './deadline/support.js';
import { expectError, expectStatus, submit } from './support.js';
import { startUfdl, type UfdlWorld } from './ufdl/support.js';

/*
 * Issue 12, point 6: a UFDL filter nested 5,000 deep overflowed the stack, and a 40,000-wide
 * `or` or 40,000 dependencies passed SQLite's limit of bound variables. Depth and width are
 * bounded and answered with a 400 that names the limit.
 */

const exact = (i: number) => ({ type: 'exact', field: 'pk', value: i });

for (const database of TEST_DATABASES) {
  describe(`deep and wide input (${database.name})`, { timeout: 120_000 }, () => {
    let w: UfdlWorld;
    let t: TestServer;
    before(async () => {
      w = await startUfdl(database);
      t = await startTestServer(database);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });

    it('UFDL: an `and` nested 5,000 deep is a 400', async () => {
      // Written out by hand: JSON.stringify itself runs out of stack this deep.
      const leaf = JSON.stringify(exact(1));
      const open = '{"type":"and","sub_expressions":['.repeat(5000);
      const close = `,${leaf}]}`.repeat(5000);
      const body = `{"expressions":[${open}${leaf}${close}]}`;
      const res = await w.user.call('POST', '/v1/jobs/list', body, {
        'content-type': 'application/json',
      });
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
      // Refused before the filter is read: no body may nest deeper than MAX_JSON_DEPTH.
      assert.match(res.body.detail, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels`));
    });

    it('a body nested 5,000 deep is a 400 on every face, not a stack overflow', async () => {
      // Found by the fuzz: the Scale and Deadline submits re-serialised or coerced a deep
      // value and ran out of stack (500). Written by hand, as JSON.stringify overflows too.
      const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const dl = await startDeadlineTestServer(database);
      try {
        const scale = await dl.request(
          'POST',
          '/v6/jobs/',
          `{"job_type_id":1,"input":{"files":{"F":${deep}}}}`,
        );
        assert.equal(scale.status, 400, JSON.stringify(scale.body));
        assert.match(scale.body.detail, /nested more than/);
        const native = await dl.request('POST', '/api/v1/jobs', `{"type":${deep}}`);
        expectError(native, 400, 'VALIDATION');
        assert.match(native.body.message, /nested more than/);
        for (const body of [
          `{"Command":${deep}}`,
          `{"JobInfo":{"Plugin":"CommandLine"},"PluginInfo":{"Executable":${deep}},"AuxFiles":[]}`,
        ]) {
          const res = await dl.dl(body.includes('Command') ? 'PUT' : 'POST', '/api/jobs', body);
          assert.equal(res.status, 400, res.text);
          assert.match(res.text, /^Error: the body is nested more than/);
        }
        // Brackets inside strings are text, not depth.
        const text = await dl.dl('POST', '/api/jobs', {
          JobInfo: { Plugin: 'CommandLine', Name: '['.repeat(5000) },
          PluginInfo: { Executable: '/bin/true' },
          AuxFiles: [],
        });
        assert.equal(text.status, 200, text.text);
      } finally {
        await dl.close();
      }
    });

    it('UFDL: a 40,000-wide `or` is a 400 naming the limit', async () => {
      const or = {
        type: 'or',
        sub_expressions: Array.from({ length: 40_000 }, (_, i) => exact(i)),
      };
      for (const path of ['/v1/jobs/list', '/v1/nodes/list', '/v1/job-templates/list']) {
        const res = await w.user.call('POST', path, { expressions: [or] });
        assert.equal(res.status, 400, path);
        assert.match(
          JSON.stringify(res.body).slice(0, 500),
          new RegExp(`at most ${MAX_FILTER_EXPRESSIONS} expressions`),
        );
      }
      const wide = Array.from({ length: MAX_FILTER_EXPRESSIONS }, (_, i) => exact(i));
      const ok = await w.user.call('POST', '/v1/jobs/list', {
        expressions: [{ type: 'or', sub_expressions: wide.slice(1) }],
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 300));
    });

    it('native: 40,000 dependencies are a 400 naming the limit, on submit and PATCH', async () => {
      const ids = Array.from({ length: 40_000 }, (_, i) => i + 1);
      const body = { type: 'command-line', parameters: { executable: 'echo' }, dependencies: ids };
      const submitted = await t.request('POST', '/api/v1/jobs', body);
      expectError(submitted, 400, 'VALIDATION');
      assert.match(submitted.body.message, new RegExp(`${MAX_DEPENDENCIES}`));
      const job = await submit(t, {});
      const patched = await t.request('PATCH', `/api/v1/jobs/${job.id}`, { dependencies: ids });
      expectError(patched, 400, 'VALIDATION');
      // At the limit it is read in one query and answered as usual (none of them exists).
      const most = ids.slice(0, MAX_DEPENDENCIES).map((i) => i + 1000);
      const missing = await t.request('PATCH', `/api/v1/jobs/${job.id}`, { dependencies: most });
      expectError(missing, 400, 'VALIDATION');
      assert.match(missing.body.message, /do not exist/);
      expectStatus(await t.request('GET', '/api/v1/health'), 200);
    });
  });
}
