/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun, startTask, submitJob } from './support.js';

/*
 * Issue 18: `drover steps JOB` lists a multi-step job's steps, each with what it runs after;
 * `drover sessions JOB` an OpenJD job's sessions, `drover logs --session ID` one's log.
 */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: Shot sh010
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - name: Frame
          type: INT
          range: '1-4'
    script:
      actions:
        onRun:
          command: echo
          args: ['render', '{{Task.Param.Frame}}']
  - name: Encode
    dependencies:
      - dependsOn: Render
    script:
      actions:
        onRun:
          command: echo
          args: ['encode']
`;

for (const database of TEST_DATABASES) {
  describe(`drover steps (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      await buildOnce();
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    it('lists the steps with state, progress and the steps they run after', async () => {
      const job = await api(t, 'POST', '/jobs', { template: TEMPLATE });
      const steps = (await api(t, 'GET', `/jobs?parent=${job.id}&sort=id`)).items;
      assert.deepEqual(
        steps.map((s: any) => s.childName),
        ['Render', 'Encode'],
      );
      const [render, encode] = steps;
      const run = await drover(t, ['steps', String(job.id)]);
      expectRun(run, 0);
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^\s*ID\s+STEP\s+STATE\s+PROGRESS\s+FAILED\s+ELAPSED\s+AFTER$/);
      assert.match(
        lines[1]!,
        new RegExp(`^\\s*${render.id}\\s+Render\\s+QUEUED\\s+0/4 \\(0%\\)\\s+0\\s+-\\s+-$`),
      );
      assert.match(
        lines[2]!,
        new RegExp(`^\\s*${encode.id}\\s+Encode\\s+PENDING\\s+0/1 \\(0%\\)\\s+0\\s+-\\s+Render$`),
      );
      assert.equal(lines.length, 3);

      const json = JSON.parse((await drover(t, ['steps', '--json', String(job.id)])).stdout);
      assert.deepEqual(
        json.map((s: any) => [s.id, s.childName, s.after]),
        [
          [render.id, 'Render', []],
          [encode.id, 'Encode', ['Render']],
        ],
      );
    });

    it("drover jobs and drover show give a parent its steps' tasks and its steps done", async () => {
      const job = await api(t, 'POST', '/jobs', { template: TEMPLATE });
      const [render] = (await api(t, 'GET', `/jobs?parent=${job.id}&sort=id`)).items;
      const tasks = (await api(t, 'GET', `/jobs/${render.id}/tasks`)).items;
      await api(t, 'POST', `/tasks/${tasks[0].id}/complete`);

      const list = await drover(t, ['jobs', '--limit', '5']);
      expectRun(list, 0);
      const row = list.stdout.split('\n').find((l) => l.trimStart().startsWith(`${job.id} `));
      assert.ok(row, list.stdout);
      // 4 render tasks and 1 encode task, one done; no step done yet.
      assert.match(row, /\s1\/5 \(20%\), 0\/2 steps\s/);
      const plain = list.stdout.split('\n').find((l) => l.trimStart().startsWith(`${render.id} `));
      assert.match(plain!, /\s1\/4 \(25%\)\s/);
      assert.doesNotMatch(plain!, /steps/);

      const show = await drover(t, ['show', String(job.id)]);
      expectRun(show, 0);
      assert.match(
        show.stdout,
        /Tasks:\s+1\/5 \(20%\) completed, 0 running, 3 queued, 0 failed \(its steps' tasks\)/,
      );
      assert.match(
        show.stdout,
        new RegExp(`Steps:\\s+0/2 completed, 0 running, 0 failed \\(drover steps ${job.id}\\)`),
      );
    });

    it("drover sessions lists an OpenJD job's sessions; drover logs --session prints one's log", async () => {
      // The earlier tests' jobs are canceled (a parent takes its steps along), so the node
      // takes a task of this one.
      const live = await api(t, 'GET', '/jobs?state=PENDING,QUEUED,RUNNING&limit=1000');
      for (const j of live.items) if (!j.parentId) await api(t, 'POST', `/jobs/${j.id}/cancel`);
      const job = await api(t, 'POST', '/jobs', { template: TEMPLATE, pool: 'cli-sessions' });
      const node = await api(t, 'POST', '/nodes', { name: 'cli-node', pools: ['cli-sessions'] });
      const order = await startTask(t, node.id);
      const open = { nodeId: node.id, jobId: job.id, clientToken: 'cli-1' };
      const session = await api(t, 'POST', '/sessions', open);
      const actions = [
        { index: 0, kind: 'envEnter', status: 'SUCCEEDED', environment: 'Farm' },
        { index: 1, kind: 'taskRun', status: 'SUCCEEDED', executionId: order.execution.id },
      ];
      await api(t, 'POST', `/sessions/${session.id}/actions`, { nodeId: node.id, actions });
      const lines = [
        { stream: 'worker', text: 'drover: entering environment Farm' },
        { stream: 'stdout', text: 'license checked out' },
      ];
      await api(t, 'POST', `/sessions/${session.id}/log`, { nodeId: node.id, lines });
      await api(t, 'POST', `/sessions/${session.id}/end`, { nodeId: node.id, reason: 'done' });

      const run = await drover(t, ['sessions', String(job.id)]);
      expectRun(run, 0);
      const [head, row, ...rest] = run.stdout.trimEnd().split('\n');
      assert.match(head!, /^\s*ID\s+NODE\s+STATE\s+ACTIONS\s+STARTED\s+ELAPSED\s+ENDED BECAUSE$/);
      assert.match(row!, new RegExp(`^\\s*${session.id}\\s+cli-node\\s+ENDED\\s+2\\s.*\\sdone$`));
      assert.equal(rest.length, 0);
      const log = await drover(t, ['logs', '--session', String(session.id)]);
      expectRun(log, 0, 'license checked out\n', '[worker] drover: entering environment Farm\n');
      expectRun(await drover(t, ['logs', '1', '--session', String(session.id)]), 1, '', /not both/);
      const none = await submitJob(t, { name: 'plain' });
      expectRun(
        await drover(t, ['sessions', String(none.id)]),
        0,
        `job ${none.id} (plain) has no sessions\n`,
      );
    });

    it('says a job has no steps, and prints the server message for an unknown job', async () => {
      const single = await submitJob(t, { name: 'single' });
      expectRun(
        await drover(t, ['steps', String(single.id)]),
        0,
        `job ${single.id} (single) has no steps\n`,
      );
      const missing = await t.request('GET', '/api/v1/jobs/424242');
      expectRun(await drover(t, ['steps', '424242']), 1, '', `drover: ${missing.body.message}\n`);
    });
  });
}
