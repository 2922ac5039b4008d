/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import { startTestServer, type TestServer } from '../../helpers/http.js';
import {
  expectDetail,
  expectStatus,
  JOB_TYPE_BASE_FIELDS,
  keys,
  manifest,
  registerNode,
} from './support.js';

/* /v6/job-types/ from Seed manifests, and the errors, nodes, batches and files Scale jobs use. */

for (const database of TEST_DATABASES) {
  describe(`Scale v6 job types, errors, nodes, batches, files (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('creates a job type from a manifest (201), revises it on a second POST (200)', async () => {
      const m = manifest('jt-one', {
        job: {
          errors: [
            { code: 2, name: 'bad-input', title: 'Bad input', category: 'data' },
            { code: 3, name: 'crashed', title: 'Crashed' },
          ],
        },
      });
      const created = await t.request('POST', '/v6/job-types/', { manifest: m, icon_code: 'f013' });
      expectStatus(created, 201);
      assert.equal(created.headers.get('location'), `${t.url}/v6/job-types/jt-one/1.0.0/`);
      for (const key of JOB_TYPE_BASE_FIELDS) assert.ok(key in created.body, key);
      assert.equal(created.body.icon_code, 'f013');
      assert.equal(created.body.revision_num, 1);
      assert.equal(created.body.max_tries, 3);
      assert.deepEqual(created.body.manifest, m);
      const revised = await t.request('POST', '/v6/job-types/', {
        manifest: { ...m, job: { ...m.job, title: 'Renamed' } },
      });
      expectStatus(revised, 200);
      assert.equal(revised.body.revision_num, 2);
      assert.equal(revised.body.title, 'Renamed');
      assert.equal(revised.body.id, created.body.id);

      const details = expectStatus(await t.request('GET', '/v6/job-types/jt-one/1.0.0/'), 200).body;
      assert.equal(details.title, 'Renamed');
      const revisions = expectStatus(
        await t.request('GET', '/v6/job-types/jt-one/1.0.0/revisions/'),
        200,
      ).body;
      assert.deepEqual(
        revisions.results.map((r: any) => r.revision_num),
        [2, 1],
      );
      const first = expectStatus(
        await t.request('GET', '/v6/job-types/jt-one/1.0.0/revisions/1/'),
        200,
      ).body;
      assert.equal(first.manifest.job.title, m.job.title);
      assert.deepEqual(keys(first), [
        'created',
        'docker_image',
        'id',
        'job_type',
        'manifest',
        'revision_num',
      ]);
      expectDetail(await t.request('GET', '/v6/job-types/jt-one/9.9.9/'), 404, 'Not found.');
      expectDetail(
        await t.request('GET', '/v6/job-types/jt-one/1.0.0/revisions/7/'),
        404,
        'Not found.',
      );

      const list = expectStatus(await t.request('GET', '/v6/job-types/?name=jt-one'), 200).body;
      assert.equal(list.count, 1);
      const all = expectStatus(await t.request('GET', '/v6/job-types/?page_size=1'), 200).body;
      assert.ok(all.count >= 3, 'the built-in types too');
      assert.equal(all.next, `${t.url}/v6/job-types/?page=2&page_size=1`);

      // The manifest's errors are the job type's own, never retried.
      const errors = expectStatus(
        await t.request('GET', '/v6/errors/?job_type_name=jt-one'),
        200,
      ).body;
      assert.deepEqual(
        errors.results.map((e: any) => [e.name, e.category, e.is_builtin, e.should_be_retried]),
        [
          ['bad-input', 'DATA', false, false],
          ['crashed', 'ALGORITHM', false, false],
        ],
      );
      // The job type is a Drover job type too.
      const native = expectStatus(
        await t.request('GET', `/api/v1/job-types/${created.body.id}`),
        200,
      );
      assert.equal(native.body.name, 'jt-one');
    });

    it('refuses an invalid manifest with Scale messages', async () => {
      const post = (body: unknown) => t.request('POST', '/v6/job-types/', body);
      expectDetail(await post({}), 400, 'Missing required parameter: "manifest"');
      const m = manifest('jt-bad');
      delete m.job.title;
      expectDetail(
        await post({ manifest: m }),
        400,
        "Seed Manifest invalid: 'title' is a required property",
      );
      expectDetail(
        await post({ manifest: { ...manifest('jt-bad'), seedVersion: '2.0.0' } }),
        400,
        /^Seed Manifest invalid: '2.0.0' does not match/,
      );
      expectDetail(
        await post({ manifest: manifest('bad name!') }),
        400,
        `Seed Manifest invalid: "bad name!" does not match '^[a-zA-Z0-9-]+$'`,
      );
      const versioned = manifest('jt-bad');
      versioned.job.jobVersion = '1.0';
      expectDetail(await post({ manifest: versioned }), 400, /semantic version/);
      const dup = manifest('jt-bad', {
        job: {
          interface: {
            command: '',
            inputs: { files: [{ name: 'a' }], json: [{ name: 'a', type: 'string' }] },
          },
        },
      });
      expectDetail(
        await post({ manifest: dup }),
        400,
        'Seed Manifest invalid: Duplicate name in interface: a',
      );
      expectDetail(
        await post({ manifest: manifest('jt-bad'), configuration: { priority: 'high' } }),
        400,
        "Job type configuration invalid: Invalid configuration: 'high' is not of type 'integer'",
      );
    });

    it('lists the built-in errors with categories and retry flags', async () => {
      const body = expectStatus(
        await t.request('GET', '/v6/errors/?is_builtin=true&page_size=1000'),
        200,
      ).body;
      const byName = Object.fromEntries(body.results.map((e: any) => [e.name, e]));
      assert.equal(byName['node-lost'].category, 'SYSTEM');
      assert.equal(byName['node-lost'].should_be_retried, true);
      assert.equal(byName.timeout.category, 'ALGORITHM');
      assert.equal(byName.timeout.should_be_retried, false);
      assert.equal(byName['missing-setting'].should_be_retried, false);
      const one = expectStatus(
        await t.request('GET', `/v6/errors/${byName.unknown.id}/`),
        200,
      ).body;
      assert.equal(one.name, 'unknown');
      expectDetail(await t.request('GET', '/v6/errors/99999/'), 404, 'Not found.');
    });

    it('shows Drover nodes as Scale nodes', async () => {
      const node = await registerNode(t, 'scale-node', { cpus: 4, gpus: 1 });
      const list = expectStatus(await t.request('GET', '/v6/nodes/'), 200).body;
      const item = list.results.find((n: any) => n.id === node.id);
      assert.equal(item.hostname, 'scale-node.farm');
      assert.equal(item.state.name, 'READY');
      assert.deepEqual(item.resources.total, { cpus: 4, mem: 16384, disk: 100000, gpus: 1 });
      expectStatus(await t.request('POST', `/api/v1/nodes/${node.id}/disable`), 200);
      const paused = expectStatus(await t.request('GET', `/v6/nodes/${node.id}/`), 200).body;
      assert.equal(paused.is_paused, true);
      expectDetail(await t.request('GET', '/v6/nodes/99999/'), 404, 'Not found.');
    });

    it('registers batches and files', async () => {
      const batch = expectStatus(
        await t.request('POST', '/v6/batches/', { title: 'B', description: 'd' }),
        201,
      ).body;
      assert.deepEqual(keys(batch), ['created', 'description', 'id', 'title']);
      assert.deepEqual(
        expectStatus(await t.request('GET', `/v6/batches/${batch.id}/`), 200).body,
        batch,
      );
      assert.equal(expectStatus(await t.request('GET', '/v6/batches/'), 200).body.count, 1);
      expectDetail(
        await t.request('POST', '/v6/batches/', {}),
        400,
        'Missing required parameter: "title"',
      );

      const file = expectStatus(
        await t.request('POST', '/v6/files/', {
          file_name: 'f.txt',
          file_path: '/shared/f.txt',
          file_size: 10,
          source_started: '2020-01-01T00:00:00+01:00',
        }),
        201,
      ).body;
      assert.equal(file.source_started, '2019-12-31T23:00:00Z');
      assert.equal(file.file_path, '/shared/f.txt');
      assert.deepEqual(
        expectStatus(await t.request('GET', `/v6/files/${file.id}/`), 200).body,
        file,
      );
      const found = expectStatus(await t.request('GET', '/v6/files/?file_name=f.txt'), 200).body;
      assert.equal(found.count, 1);
      expectDetail(
        await t.request('POST', '/v6/files/', { file_name: 'x' }),
        400,
        'Missing required parameter: "file_path"',
      );
      expectDetail(
        await t.request('POST', '/v6/files/', {
          file_name: 'x',
          file_path: '/x',
          source_started: 'soon',
        }),
        400,
        'Invalid ISO timestamp format for parameter: source_started',
      );
    });
  });
}
