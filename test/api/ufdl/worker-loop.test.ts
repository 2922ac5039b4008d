/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  registerNode,
  startUfdl,
  watch,
  type UfdlClient,
  type UfdlWorld,
} from './support.js';

/*
 * The job launcher's whole loop (reference §12, ufdl-job-launcher) against a real server:
 * register the node, poll with its filter, read the template, acquire, start, progress with
 * metadata, check is_cancelled, upload an output, finish — once well, once with an error —
 * while a WebSocket client (seed 001, Connect To Job) receives every transition's message.
 */

const POLL = {
  expressions: [
    {
      type: 'and',
      sub_expressions: [
        { field: 'start_time', type: 'isnull' },
        { field: 'error_reason', type: 'isnull' },
        { field: 'node', type: 'isnull' },
        { field: 'template.workabletemplate', type: 'isnull', invert: true },
      ],
    },
  ],
};

async function runOnce(w: UfdlWorld, node: UfdlClient, error?: string): Promise<any> {
  const polled = expect(await node.call('POST', '/v1/jobs/list', POLL), 200, 'poll');
  assert.equal(polled.length, 1, 'one workable job');
  const job = polled[0];
  expect(await node.call('GET', `/v1/job-templates/${job.template.pk}`), 200, 'template');
  expect(await node.call('GET', `/v1/jobs/${job.pk}/acquire`), 200, 'acquire');
  assert.deepEqual(
    expect(await node.call('POST', '/v1/jobs/list', POLL), 200, 'poll again'),
    [],
    'acquired leaves the poll',
  );
  expect(
    await node.call('POST', `/v1/jobs/${job.pk}/start`, { send_notification: 'email' }),
    200,
    'start',
  );
  expect(
    await node.call('POST', `/v1/jobs/${job.pk}/progress/0.5`, { epoch: 1, loss: 0.25 }),
    200,
    'progress',
  );
  assert.equal(
    expect(await node.call('GET', `/v1/jobs/${job.pk}`), 200, 'check').is_cancelled,
    false,
  );
  expect(
    await node.addOutput(job.pk, 'log', 'Compressed<TextFile>', Buffer.from('log text')),
    200,
    'output',
  );
  return expect(
    await node.call('POST', `/v1/jobs/${job.pk}/finish`, {
      success: error === undefined,
      send_notification: 'email',
      ...(error !== undefined ? { error } : {}),
    }),
    200,
    'finish',
  );
}

for (const database of TEST_DATABASES) {
  describe(`UFDL job launcher loop (${database.name})`, () => {
    test('register, poll, acquire, start, progress, output, finish; every transition on the socket', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const node = await registerNode(w);
        // Registering again (a restarted launcher) finds and updates the same node.
        assert.equal((await registerNode(w)).nodeId, node.nodeId);

        const good = await createJob(w, tpl, {
          notification_override: { actions: {}, keep_default: true },
        });
        const socket = await watch(w, good.pk);
        const finished = await runOnce(w, node);
        assert.notEqual(finished.end_time, null);
        const messages = await socket.until(4);
        assert.deepEqual(
          messages.map((m) => m.transition),
          ['acquire', 'start', 'progress', 'finish'],
        );
        assert.deepEqual(messages[2], {
          transition: 'progress',
          description: 'train a model',
          pk: good.pk,
          progress: 0.5,
          cancelled: false,
          node: node.nodeId,
          transition_data: { epoch: 1, loss: 0.25 },
        });
        assert.equal(messages[3].progress, 1);
        socket.close();

        const bad = await createJob(w, tpl);
        const badSocket = await watch(w, bad.pk);
        const errored = await runOnce(w, node, 'CUDA out of memory');
        assert.equal(errored.error_reason, 'CUDA out of memory');
        const badMessages = await badSocket.until(4);
        assert.deepEqual(
          badMessages.map((m) => m.transition),
          ['acquire', 'start', 'progress', 'error'],
        );
        assert.equal(badMessages[3].error, 'CUDA out of memory');
        badSocket.close();

        // A watcher connecting now gets the current phase's message first.
        const late = await watch(w, bad.pk);
        const first = await late.until(1);
        assert.equal(first[0].transition, 'error');
        // reset, release, and the other transitions reach it too.
        expect(await node.call('DELETE', `/v1/jobs/${bad.pk}/reset`), 200, 'reset');
        expect(await node.call('DELETE', `/v1/jobs/${bad.pk}/release`), 200, 'release');
        expect(await node.call('GET', `/v1/jobs/${bad.pk}/acquire`), 200, 'acquire');
        expect(await node.call('DELETE', `/v1/jobs/${bad.pk}/release`), 200, 'release');
        expect(await node.call('GET', `/v1/jobs/${bad.pk}/acquire`), 200, 'acquire');
        expect(
          await node.call('POST', `/v1/jobs/${bad.pk}/start`, { send_notification: 'email' }),
          200,
          'start',
        );
        expect(await w.admin.call('DELETE', `/v1/jobs/${bad.pk}/abort`), 200, 'abort');
        expect(await w.admin.call('DELETE', `/v1/jobs/${bad.pk}/cancel`), 200, 'cancel');
        const all = await late.until(8);
        assert.deepEqual(
          all.map((m) => m.transition),
          ['error', 'reset', 'acquire', 'release', 'acquire', 'start', 'abort', 'cancel'],
        );
        assert.equal(all.at(-1).cancelled, true);
        late.close();
      } finally {
        await w.close();
      }
    });

    test('the socket of a job that does not exist is refused; a finished job says finish on connect', async () => {
      const w = await startUfdl(database);
      try {
        await assert.rejects(watch(w, 999), /404/);
        const tpl = await defineTemplate(w);
        const job = await createJob(w, tpl, {
          notification_override: { actions: { on_finish: [{}] } },
        });
        const node = await registerNode(w);
        const socket = await watch(w, job.pk);
        await runOnce(w, node);
        // Only on_finish asked for the socket: acquire, start, progress stay silent.
        assert.deepEqual(
          (await socket.until(1)).map((m) => m.transition),
          ['finish'],
        );
        socket.close();
        const again = await watch(w, job.pk);
        assert.equal((await again.until(1))[0].transition, 'finish');
        again.close();
      } finally {
        await w.close();
      }
    });
  });
}
