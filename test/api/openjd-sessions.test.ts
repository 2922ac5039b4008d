/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { expectError, expectStatus } from './support.js';

/*
 * OpenJD session records (docs/openjd.md#session-records): the node running a job's tasks
 * opens a session, reports its actions and log lines and ends it; readers of the job read
 * them back; no other node writes to it; bad reports are 4xx; purging the job removes them.
 */

const TEMPLATE = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Sessions',
  steps: [
    {
      name: 'Render',
      parameterSpace: { taskParameterDefinitions: [{ name: 'F', type: 'INT', range: '1-2' }] },
      stepEnvironments: [{ name: 'Env', script: { actions: { onEnter: { command: 'true' } } } }],
      script: { actions: { onRun: { command: 'echo', args: ['{{Task.Param.F}}'] } } },
    },
  ],
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const database of TEST_DATABASES) {
  describe(`native API: OpenJD sessions (${database.name})`, () => {
    let t: TestServer;
    const h: Record<string, Record<string, string>> = {};
    before(async () => {
      t = await startTestServer(database, { auth: true });
      await addUser(t.engine.ctx, 'alice', 'user');
      await addUser(t.engine.ctx, 'node-a', 'node');
      await addUser(t.engine.ctx, 'node-b', 'node');
      for (const name of ['alice', 'node-a', 'node-b']) {
        h[name] = bearer(await createToken(t.engine.ctx, name));
      }
    });
    after(async () => {
      await t?.close();
    });

    const as = (who: string, method: string, path: string, body?: unknown) =>
      t.request(method, path, body, h[who]);

    it('a node opens, reports and ends a session; readers read it back; others are refused', async () => {
      const parent = expectStatus(
        await as('alice', 'POST', '/api/v1/jobs', { template: TEMPLATE, pool: 'sess' }),
        201,
      ).body;
      const a = expectStatus(
        await as('node-a', 'POST', '/api/v1/nodes', { name: 'node-a', pools: ['sess'], slots: 4 }),
        200,
      ).body;
      const b = expectStatus(
        await as('node-b', 'POST', '/api/v1/nodes', { name: 'node-b', pools: ['sess'] }),
        200,
      ).body;
      const orders = expectStatus(
        await as('node-a', 'POST', `/api/v1/nodes/${a.id}/claims`, { max: 2, start: true }),
        200,
      ).body.orders;
      assert.equal(orders.length, 2);
      const step = orders[0].job.id;
      const [e1, e2] = orders.map((o: any) => o.execution.id);

      // Node B runs nothing of the job: it may not open a session of it.
      const stranger = { nodeId: b.id, jobId: parent.id, clientToken: 'b-1' };
      expectError(await as('node-b', 'POST', '/api/v1/sessions', stranger), 403, 'FORBIDDEN');
      const open = { nodeId: a.id, jobId: parent.id, clientToken: 'a-1' };
      // Nor may it speak for node A.
      expectError(await as('node-b', 'POST', '/api/v1/sessions', open), 403, 'FORBIDDEN');
      const session = expectStatus(await as('node-a', 'POST', '/api/v1/sessions', open), 200).body;
      assert.equal(session.lifecycleStatus, 'STARTED');
      // Opening again with the same token (a lost answer) gives the same session.
      const again = expectStatus(await as('node-a', 'POST', '/api/v1/sessions', open), 200).body;
      assert.equal(again.id, session.id);

      const s = `/api/v1/sessions/${session.id}`;
      const at = new Date().toISOString();
      const actions = [
        {
          index: 0,
          kind: 'envEnter',
          status: 'SUCCEEDED',
          environment: 'step Render environment Env',
          stepJobId: step,
          startedAt: at,
          endedAt: at,
          processExitCode: 0,
        },
        { index: 1, kind: 'taskRun', status: 'RUNNING', executionId: e1, startedAt: at },
      ];
      expectStatus(await as('node-a', 'POST', `${s}/actions`, { nodeId: a.id, actions }), 200);
      const more = [
        {
          index: 1,
          kind: 'taskRun',
          status: 'SUCCEEDED',
          executionId: e1,
          endedAt: at,
          processExitCode: 0,
          progressPercent: 100,
        },
        { index: 2, kind: 'taskRun', status: 'FAILED', executionId: e2, processExitCode: 3 },
        {
          index: 3,
          kind: 'envExit',
          status: 'SUCCEEDED',
          environment: 'step Render environment Env',
          stepJobId: step,
        },
      ];
      const counted = await as('node-a', 'POST', `${s}/actions`, { nodeId: a.id, actions: more });
      assert.equal(expectStatus(counted, 200).body.actionCount, 4);
      const lines = [
        { stream: 'worker', text: 'drover: entering environment Env' },
        { stream: 'stdout', text: 'entered' },
      ];
      expectStatus(
        await as('node-a', 'POST', `${s}/log`, { nodeId: a.id, lines, firstLine: 0 }),
        200,
      );
      // The same batch again (its answer was lost) is stored once.
      const resent = await as('node-a', 'POST', `${s}/log`, { nodeId: a.id, lines, firstLine: 0 });
      assert.equal(expectStatus(resent, 200).body.count, 0);

      // Node B may not write to node A's session, whatever node it names.
      for (const nodeId of [a.id, b.id]) {
        const body = { nodeId, actions: [{ ...more[2], index: 4 }] };
        expectError(await as('node-b', 'POST', `${s}/actions`, body), 403, 'FORBIDDEN');
        expectError(await as('node-b', 'POST', `${s}/log`, { nodeId, lines }), 403, 'FORBIDDEN');
        expectError(
          await as('node-b', 'POST', `${s}/end`, { nodeId, reason: 'x' }),
          403,
          'FORBIDDEN',
        );
      }

      const ended = await as('node-a', 'POST', `${s}/end`, {
        nodeId: a.id,
        reason: 'no more tasks of its job',
      });
      assert.equal(expectStatus(ended, 200).body.lifecycleStatus, 'ENDED');
      const late = { nodeId: a.id, actions: [{ ...more[2], index: 4 }] };
      expectError(await as('node-a', 'POST', `${s}/actions`, late), 409, 'CONFLICT');

      // Read back by a reader of the job, from the parent and from the step.
      for (const job of [parent.id, step]) {
        const list = expectStatus(
          await as('alice', 'GET', `/api/v1/jobs/${job}/sessions`),
          200,
        ).body;
        assert.equal(list.total, 1);
        assert.equal(list.items[0].id, session.id);
        assert.equal(list.items[0].nodeName, 'node-a');
        assert.deepEqual(list.items[0].steps, [step]);
      }
      const read = expectStatus(await as('alice', 'GET', s), 200).body;
      assert.equal(read.endedReason, 'no more tasks of its job');
      assert.ok(read.endedAt);
      assert.equal(read.actionCount, 4);
      assert.deepEqual(
        read.actions.map((x: any) => [x.kind, x.status, x.executionId, x.processExitCode]),
        [
          ['envEnter', 'SUCCEEDED', null, 0],
          ['taskRun', 'SUCCEEDED', e1, 0],
          ['taskRun', 'FAILED', e2, 3],
          ['envExit', 'SUCCEEDED', null, null],
        ],
      );
      assert.equal(read.actions[1].taskId, orders[0].task.id);
      assert.equal(read.actions[1].stepJobId, step);
      assert.equal(read.actions[1].sessionActionId, `${session.id}-1`);
      const log = expectStatus(await as('alice', 'GET', `${s}/log?from=1`), 200).body;
      assert.deepEqual(
        log.lines.map((l: any) => [l.line, l.stream, l.text]),
        [[1, 'stdout', 'entered']],
      );
      assert.equal(log.next, 2);
      assert.equal(log.live, false);
      // Without credentials, nothing.
      expectError(await t.request('GET', s), 401);
      expectError(await t.request('GET', `/api/v1/jobs/${parent.id}/sessions`), 401);

      // Purging the job removes its sessions.
      expectStatus(await as('alice', 'DELETE', `/api/v1/jobs/${parent.id}`), 204);
      expectStatus(await as('alice', 'DELETE', `/api/v1/jobs/${parent.id}?purge=true`), 204);
      expectError(await as('alice', 'GET', s), 404, 'NOT_FOUND');
      expectError(await as('alice', 'GET', `${s}/log`), 404, 'NOT_FOUND');
    });

    it('bad reports are refused with a 4xx that says why', async () => {
      const parent = expectStatus(
        await as('alice', 'POST', '/api/v1/jobs', { template: TEMPLATE, pool: 'bad' }),
        201,
      ).body;
      const a = expectStatus(
        await as('node-a', 'POST', '/api/v1/nodes', { name: 'node-a', pools: ['bad'], slots: 4 }),
        200,
      ).body;
      const order = expectStatus(
        await as('node-a', 'POST', `/api/v1/nodes/${a.id}/claims`, { max: 1, start: true }),
        200,
      ).body.orders[0];
      const open = (body: unknown) => as('node-a', 'POST', '/api/v1/sessions', body);
      expectError(await open({ nodeId: a.id, jobId: parent.id, clientToken: 'x'.repeat(65) }), 400);
      expectError(await open({ nodeId: a.id, jobId: parent.id, clientToken: 'a b' }), 400);
      expectError(await open({ nodeId: a.id, jobId: 999_999, clientToken: 'gone' }), 404);
      const session = expectStatus(
        await open({ nodeId: a.id, jobId: parent.id, clientToken: 'bad-1' }),
        200,
      ).body;
      const s = `/api/v1/sessions/${session.id}`;
      const report = (action: Record<string, unknown>) =>
        as('node-a', 'POST', `${s}/actions`, { nodeId: a.id, actions: [action] });
      const skip = await report({
        index: 5,
        kind: 'taskRun',
        status: 'RUNNING',
        executionId: order.execution.id,
      });
      assert.match(expectError(skip, 400, 'VALIDATION').body.message, /report action 0 next/);
      const noExe = await report({ index: 0, kind: 'taskRun', status: 'RUNNING' });
      assert.match(expectError(noExe, 400, 'VALIDATION').body.message, /executionId/);
      const noEnv = await report({ index: 0, kind: 'envEnter', status: 'RUNNING' });
      assert.match(expectError(noEnv, 400, 'VALIDATION').body.message, /environment/);
      expectError(
        await report({ index: 0, kind: 'sync', status: 'RUNNING', environment: 'e' }),
        400,
      );
      expectError(
        await report({ index: 0, kind: 'envEnter', status: 'DONE', environment: 'e' }),
        400,
      );
      const outside = await report({
        index: 0,
        kind: 'envEnter',
        status: 'RUNNING',
        environment: 'e',
        stepJobId: 999_999,
      });
      assert.match(expectError(outside, 400, 'VALIDATION').body.message, /not job/);
      const many = Array.from({ length: 101 }, (_, i) => ({
        index: i,
        kind: 'envEnter',
        status: 'RUNNING',
        environment: 'e',
      }));
      expectError(await as('node-a', 'POST', `${s}/actions`, { nodeId: a.id, actions: many }), 400);
      const tooMany = Array.from({ length: 5001 }, () => ({ stream: 'stdout', text: 'x' }));
      expectError(await as('node-a', 'POST', `${s}/log`, { nodeId: a.id, lines: tooMany }), 400);
      expectError(await as('node-a', 'POST', `${s}/end`, { nodeId: a.id, reason: '' }), 400);
      expectError(await as('alice', 'GET', '/api/v1/sessions/999999'), 404, 'NOT_FOUND');
      expectError(await as('alice', 'GET', `${s}/log?limit=0`), 400);
    });

    it('a node that goes silent has its open sessions ended by the reaper', async () => {
      const parent = expectStatus(
        await as('alice', 'POST', '/api/v1/jobs', { template: TEMPLATE, pool: 'gone' }),
        201,
      ).body;
      const a = expectStatus(
        await as('node-a', 'POST', '/api/v1/nodes', { name: 'node-a', pools: ['gone'], slots: 8 }),
        200,
      ).body;
      expectStatus(
        await as('node-a', 'POST', `/api/v1/nodes/${a.id}/claims`, { max: 1, start: true }),
        200,
      );
      const open = { nodeId: a.id, jobId: parent.id, clientToken: 'gone-1' };
      const session = expectStatus(await as('node-a', 'POST', '/api/v1/sessions', open), 200).body;
      // Every other node of this suite goes silent too; only this session is of node-a's now.
      t.clock.advance(t.engine.settings.nodeTimeoutMs + 1);
      assert.ok((await t.engine.reaper.tick()).nodesOffline >= 1);
      const read = expectStatus(await as('alice', 'GET', `/api/v1/sessions/${session.id}`), 200);
      assert.equal(read.body.lifecycleStatus, 'ENDED');
      assert.equal(read.body.endedReason, 'the worker stopped reporting (node offline)');
      // A report the worker sends after all is refused: the session is over.
      const late = await as('node-a', 'POST', `/api/v1/sessions/${session.id}/end`, {
        nodeId: a.id,
        reason: 'no more tasks of its job',
      });
      assert.equal(expectStatus(late, 200).body.endedReason, read.body.endedReason);
    });
  });
}
