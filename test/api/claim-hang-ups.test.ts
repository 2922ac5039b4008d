/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HangUp } from '../../src/api/wait-signal.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { acquire, expectStatus, register, submit } from './support.js';

/*
 * A node's long-poll whose client hangs up (a node killed, a connection cut) ends at once
 * on the server: it stops waiting, takes nothing, and the work that comes later goes to a
 * node still asking. The claim routes pass the dispatcher a HangUp (api/wait-signal.ts)
 * rather than an AbortSignal; these go through real HTTP, and a client that aborts its
 * request.
 */

/** A long-poll of `path` that the client abandons after `ms`; resolves once it is gone. */
async function hangUpAfter(t: TestServer, path: string, body: unknown, ms: number) {
  const client = new AbortController();
  const poll = fetch(t.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: client.signal,
  });
  await eventually(() => assert.equal(t.engine.dispatcher.parked, 1, 'the poll waits'));
  await new Promise((resolve) => setTimeout(resolve, ms));
  client.abort();
  await assert.rejects(poll, { name: 'AbortError' });
}

for (const database of TEST_DATABASES) {
  describe(`native API: a long-poll whose client hangs up (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t.close();
    });

    for (const [route, path, body] of [
      ['acquire', (id: number) => `/api/v1/nodes/${id}/acquire?wait=30`, {}],
      ['claims', (id: number) => `/api/v1/nodes/${id}/claims`, { max: 2, wait: 30 }],
    ] as const) {
      it(`${route}: the wait ends with the client, and the next job goes to a node still asking`, async () => {
        const gone = await register(t, `${route}-gone`, { slots: 2 });
        const asking = await register(t, `${route}-asking`, { slots: 2 });
        await hangUpAfter(t, path(gone.id), body, 100);
        await eventually(() => assert.equal(t.engine.dispatcher.parked, 0, 'no claim waits'));
        const job = await submit(t, { user: 'alice', frames: '1' });
        const order = await acquire(t, asking.id, 5);
        assert.equal(order?.task.jobId, job.id, 'the node still asking takes the task');
        const executions = expectStatus(
          await t.request('GET', `/api/v1/executions?job=${job.id}`),
          200,
        ).body.items;
        assert.deepEqual(
          executions.map((e: any) => e.nodeId),
          [asking.id],
          'the node that hung up took nothing',
        );
      });
    }
  });
}

describe('HangUp, the claims’ signal', () => {
  it('calls each listener once when aborted, and none removed before', () => {
    const hangUp = new HangUp();
    const calls: string[] = [];
    const kept = () => calls.push('kept');
    const removed = () => calls.push('removed');
    hangUp.addEventListener('abort', kept);
    hangUp.addEventListener('abort', removed);
    hangUp.removeEventListener('abort', removed);
    assert.equal(hangUp.aborted, false);
    hangUp.abort();
    hangUp.abort();
    assert.equal(hangUp.aborted, true);
    assert.deepEqual(calls, ['kept']);
  });
});
