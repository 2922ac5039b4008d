/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectError, expectStatus, register, submit } from './support.js';

const RENDER = {
  name: 'render',
  title: 'Render a scene',
  description: 'Renders frames of a scene file',
  category: 'rendering',
  definition: {
    command: ['render', '--scene', '{input.scene}', '--frames', '{start}-{end}'],
    inputs: [{ name: 'scene', type: 'file' }],
    parameters: [{ name: 'quality', type: 'integer', required: false }],
    maxTries: 2,
    priority: 60,
    resources: { cpus: 2 },
  },
};

for (const database of TEST_DATABASES) {
  describe(`native API: job types (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('has the built-in command-line and shell-script types', async () => {
      for (const name of ['command-line', 'shell-script']) {
        const res = expectStatus(await t.request('GET', `/api/v1/job-types?name=${name}`), 200);
        assert.equal(res.body.total, 1);
        const type = res.body.items[0];
        assert.equal(type.name, name);
        assert.equal(type.version, '1');
        assert.equal(type.isSystem, true);
        assert.equal(type.revision, 1);
        assert.equal(type.category, 'builtin');
        assert.ok(Array.isArray(type.definition.command) && type.definition.command.length > 0);
      }
      const cl = (await t.request('GET', '/api/v1/job-types?name=command-line')).body.items[0];
      assert.deepEqual(
        cl.definition.parameters.map((p: any) => [p.name, p.required]),
        [
          ['executable', true],
          ['arguments', false],
        ],
      );
      const sh = (await t.request('GET', '/api/v1/job-types?name=shell-script')).body.items[0];
      assert.deepEqual(sh.definition.command, ['/bin/sh', '-c', '{param.script}']);
    });

    let created: any;

    it('creates a job type: 201 with Location and the normalised definition', async () => {
      const res = expectStatus(await t.request('POST', '/api/v1/job-types', RENDER), 201);
      created = res.body;
      assert.equal(res.headers.get('location'), `/api/v1/job-types/${created.id}`);
      assert.equal(created.name, 'render');
      assert.equal(created.version, '1');
      assert.equal(created.title, 'Render a scene');
      assert.equal(created.description, 'Renders frames of a scene file');
      assert.equal(created.category, 'rendering');
      assert.equal(created.isSystem, false);
      assert.equal(created.revision, 1);
      assert.deepEqual(created.definition.command, RENDER.definition.command);
      // Defaults filled in: required defaults to true, resources completed, tries and priority kept.
      assert.deepEqual(created.definition.inputs, [
        { name: 'scene', type: 'file', required: true },
      ]);
      assert.deepEqual(created.definition.parameters, [
        { name: 'quality', type: 'integer', required: false },
      ]);
      assert.deepEqual(created.definition.resources, { cpus: 2, mem: 0, disk: 0, gpus: 0 });
      assert.equal(created.definition.maxTries, 2);
      assert.equal(created.definition.priority, 60);
      assert.equal(created.definition.taskTimeout, 0);
      assert.equal(typeof created.createdAt, 'string');

      const got = expectStatus(await t.request('GET', res.headers.get('location')!), 200);
      assert.deepEqual(got.body, created);
    });

    it('refuses a duplicate name and version with 409, but takes another version', async () => {
      const dup = await t.request('POST', '/api/v1/job-types', RENDER);
      expectError(dup, 409, 'CONFLICT');
      assert.match(dup.body.message, /render version 1 exists/);

      const v2 = expectStatus(
        await t.request('POST', '/api/v1/job-types', { ...RENDER, version: '2' }),
        201,
      );
      assert.notEqual(v2.body.id, created.id);
      assert.equal(v2.body.version, '2');
      assert.equal(v2.body.revision, 1);
    });

    it('lists job types with total and pagination', async () => {
      const all = expectStatus(await t.request('GET', '/api/v1/job-types'), 200);
      // Two built-ins, the two OpenJD types, render 1 and render 2.
      assert.equal(all.body.total, 6);
      assert.equal(all.body.items.length, 6);
      const names = all.body.items.map((j: any) => `${j.name}@${j.version}`).sort();
      assert.deepEqual(names, [
        'command-line@1',
        'openjd-job@1',
        'openjd-step@1',
        'render@1',
        'render@2',
        'shell-script@1',
      ]);

      const byName = expectStatus(await t.request('GET', '/api/v1/job-types?name=render'), 200);
      assert.equal(byName.body.total, 2);
      assert.ok(byName.body.items.every((j: any) => j.name === 'render'));

      const page1 = expectStatus(await t.request('GET', '/api/v1/job-types?limit=4&offset=0'), 200);
      const page2 = expectStatus(await t.request('GET', '/api/v1/job-types?limit=4&offset=4'), 200);
      assert.equal(page1.body.items.length, 4);
      assert.equal(page2.body.items.length, 2);
      assert.equal(page1.body.total, 6);
      assert.equal(page2.body.limit, 4);
      assert.equal(page2.body.offset, 4);
      const ids = [...page1.body.items, ...page2.body.items].map((j: any) => j.id);
      assert.equal(new Set(ids).size, 6);
    });

    it('revises a job type; jobs submitted before keep revision 1', async () => {
      const before = await submit(t, {
        type: 'render',
        typeVersion: '1',
        inputs: { scene: '/scenes/a.blend' },
      });
      assert.equal(before.type.id, created.id);
      assert.equal(before.maxTries, 2);
      assert.equal(before.priority, 60);
      assert.equal(before.resources.cpus, 2);

      const revised = expectStatus(
        await t.request('POST', `/api/v1/job-types/${created.id}/revisions`, {
          title: 'Render a scene (v2 engine)',
          definition: { maxTries: 5, priority: 70, resources: { cpus: 1 } },
        }),
        201,
      );
      assert.equal(revised.body.id, created.id);
      assert.equal(revised.body.revision, 2);
      assert.equal(revised.body.title, 'Render a scene (v2 engine)');
      assert.equal(revised.body.definition.maxTries, 5);
      assert.equal(revised.body.definition.priority, 70);
      // The parts not given are kept from revision 1.
      assert.deepEqual(revised.body.definition.command, RENDER.definition.command);
      assert.deepEqual(revised.body.definition.inputs, created.definition.inputs);

      const got = expectStatus(await t.request('GET', `/api/v1/job-types/${created.id}`), 200);
      assert.equal(got.body.revision, 2);
      assert.equal(got.body.definition.maxTries, 5);

      const afterJob = await submit(t, {
        type: 'render',
        typeVersion: '1',
        inputs: { scene: '/scenes/b.blend' },
      });
      assert.equal(afterJob.maxTries, 5);
      assert.equal(afterJob.priority, 70);
      assert.equal(afterJob.resources.cpus, 1);
      assert.notEqual(afterJob.type.revisionId, before.type.revisionId);

      // The earlier job still shows (and runs with) revision 1.
      const beforeAgain = expectStatus(await t.request('GET', `/api/v1/jobs/${before.id}`), 200);
      assert.equal(beforeAgain.body.type.revisionId, before.type.revisionId);
      assert.equal(beforeAgain.body.maxTries, 2);

      const node = await register(t, 'jt-node', { cpus: 4, slots: 2 });
      const orders = [await acquire(t, node.id), await acquire(t, node.id)];
      const byJob = new Map(orders.map((o) => [o.job.id, o]));
      // The later job has the higher priority (70), so it comes first.
      assert.equal(orders[0].job.id, afterJob.id);
      assert.equal(byJob.get(before.id).jobType.revision, 1);
      assert.equal(byJob.get(before.id).jobType.definition.maxTries, 2);
      assert.equal(byJob.get(afterJob.id).jobType.revision, 2);
      assert.equal(byJob.get(afterJob.id).jobType.definition.maxTries, 5);
    });

    it('lists every revision, and reads one', async () => {
      const list = expectStatus(
        await t.request('GET', `/api/v1/job-types/${created.id}/revisions`),
        200,
      );
      assert.equal(list.body.length, 2);
      assert.deepEqual(
        list.body.map((r: any) => r.revision),
        [1, 2],
      );
      assert.equal(list.body[0].definition.maxTries, 2);
      assert.equal(list.body[1].definition.maxTries, 5);
      assert.equal(list.body[0].manifest, null);

      const one = expectStatus(
        await t.request('GET', `/api/v1/job-types/${created.id}/revisions/1`),
        200,
      );
      assert.equal(one.body.revision, 1);
      assert.deepEqual(one.body.definition, created.definition);

      const two = expectStatus(
        await t.request('GET', `/api/v1/job-types/${created.id}/revisions/2`),
        200,
      );
      assert.equal(two.body.definition.priority, 70);

      expectError(
        await t.request('GET', `/api/v1/job-types/${created.id}/revisions/3`),
        404,
        'NOT_FOUND',
      );
      expectError(await t.request('GET', '/api/v1/job-types/99999'), 404, 'NOT_FOUND');
      expectError(await t.request('GET', '/api/v1/job-types/99999/revisions'), 404, 'NOT_FOUND');
      expectError(
        await t.request('POST', '/api/v1/job-types/99999/revisions', { definition: {} }),
        404,
        'NOT_FOUND',
      );
    });

    it('deactivates a job type: its jobs stay, new ones are refused until reactivated', async () => {
      const job = await submit(t, {
        type: 'render',
        typeVersion: '1',
        inputs: { scene: '/scenes/b.blend' },
      });
      const off = expectStatus(
        await t.request('PATCH', `/api/v1/job-types/${created.id}`, { active: false }),
        200,
      );
      assert.equal(off.body.active, false);
      assert.equal(
        expectStatus(await t.request('GET', `/api/v1/job-types/${created.id}`), 200).body.active,
        false,
      );
      const refused = await t.request('POST', '/api/v1/jobs', {
        type: 'render',
        typeVersion: '1',
        inputs: { scene: '/s.blend' },
      });
      expectError(refused, 400, 'VALIDATION');
      assert.equal(
        refused.body.message,
        'job type "render" version 1 is inactive; reactivate it to submit jobs of it',
      );
      assert.equal(
        expectStatus(await t.request('GET', `/api/v1/jobs/${job.id}`), 200).body.state,
        'QUEUED',
      );
      expectError(
        await t.request('PATCH', `/api/v1/job-types/${created.id}`, { active: 'no' }),
        400,
        'VALIDATION',
      );
      expectError(
        await t.request('PATCH', '/api/v1/job-types/99999', { active: true }),
        404,
        'NOT_FOUND',
      );
      const on = expectStatus(
        await t.request('PATCH', `/api/v1/job-types/${created.id}`, { active: true }),
        200,
      );
      assert.equal(on.body.active, true);
      expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          type: 'render',
          typeVersion: '1',
          inputs: { scene: '/s.blend' },
        }),
        201,
      );
    });

    it('rejects a bad definition with 400', async () => {
      const badName = await t.request('POST', '/api/v1/job-types', {
        name: '-bad name',
        definition: { command: ['x'] },
      });
      expectError(badName, 400, 'VALIDATION');
      assert.match(badName.body.message, /name/);

      const noCommand = await t.request('POST', '/api/v1/job-types', {
        name: 'nocommand',
        definition: {},
      });
      expectError(noCommand, 400, 'VALIDATION');
      assert.match(noCommand.body.message, /command/);

      const twice = await t.request('POST', '/api/v1/job-types', {
        name: 'twice',
        definition: {
          command: ['x'],
          parameters: [
            { name: 'a', type: 'string' },
            { name: 'a', type: 'string' },
          ],
        },
      });
      expectError(twice, 400, 'VALIDATION');
      assert.match(twice.body.message, /"a" is used twice/);

      const badPattern = await t.request('POST', '/api/v1/job-types', {
        name: 'badpattern',
        definition: { command: ['x'], progressPattern: '(' },
      });
      expectError(badPattern, 400, 'VALIDATION');
      assert.match(badPattern.body.message, /progressPattern/);

      // Nothing was created by the refused requests.
      const all = expectStatus(await t.request('GET', '/api/v1/job-types'), 200);
      assert.equal(all.body.total, 6);
    });
  });
}
