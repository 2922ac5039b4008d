import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, ItemFailure } from '../../src/engine/dispatch/group-commit.js';
import { reportProgress } from '../../src/engine/executions/progress-reports.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { nodeHeartbeat, registerNode } from '../../src/engine/nodes/node-registry.js';
import { findExecution } from '../../src/store/executions.js';
import { findTask } from '../../src/store/tasks.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

describe('group commit', () => {
  it('writes what arrives during a write in one next batch, and answers each in order', async () => {
    const batches: number[][] = [];
    const writer = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      await new Promise((r) => setTimeout(r, 20));
      return items.map((i) => i * 10);
    });
    // Submitted in one turn of the event loop: written together.
    const first = [1, 2].map((i) => writer.submit(i));
    // The batch is being written; these wait for the next one.
    await new Promise((r) => setTimeout(r, 5));
    const later = [3, 4, 5].map((i) => writer.submit(i));
    const answers = await Promise.all([...first, ...later]);
    assert.deepEqual(answers, [10, 20, 30, 40, 50]);
    assert.deepEqual(
      batches,
      [
        [1, 2],
        [3, 4, 5],
      ],
      'what arrives during a write goes next',
    );
  });

  it('fails every item of a batch whose write throws, and goes on with the next', async () => {
    let calls = 0;
    const writer = new GroupCommit<number, number>(async (items) => {
      if (calls++ === 0) throw new Error('disk full');
      return items;
    });
    const first = assert.rejects(writer.submit(1), /disk full/);
    await new Promise((r) => setImmediate(r));
    const second = writer.submit(2);
    await first;
    assert.equal(await second, 2);
  });

  it('stops a batch at the first item that does not fit, keeping the order', async () => {
    const batches: string[][] = [];
    // At most two items of a kind per batch (as the write lane caps each kind).
    const fits = (batch: readonly string[], next: string) =>
      batch.filter((b) => b[0] === next[0]).length < 2;
    const writer = new GroupCommit<string, string>(
      async (items) => {
        batches.push(items);
        return items;
      },
      { maxBatch: fits },
    );
    const items = ['f1', 's1', 'f2', 'f3', 's2', 'c1'];
    assert.deepEqual(await Promise.all(items.map((i) => writer.submit(i))), items);
    assert.deepEqual(batches, [
      ['f1', 's1', 'f2'],
      ['f3', 's2', 'c1'],
    ]);
  });

  it('with two writers and `ready`, the second takes its batch when the first is ready, before the first ends', async () => {
    const log: string[] = [];
    const opened = (): { promise: Promise<void>; open: () => void } => {
      let open!: () => void;
      return { promise: new Promise<void>((resolve) => (open = resolve)), open };
    };
    // Each batch's statements, then its commit, go on when the test opens their gates.
    const gates = new Map<
      number,
      { statements: ReturnType<typeof opened>; commit: ReturnType<typeof opened> }
    >();
    let statements: Promise<void> | undefined;
    const writer = new GroupCommit<number, number>(
      async (items) => {
        const gate = { statements: opened(), commit: opened() };
        gates.set(items[0]!, gate);
        log.push(`start ${items.join(',')}`);
        const writing = (statements = gate.statements.promise);
        await writing;
        if (statements === writing) statements = undefined;
        await gate.commit.promise;
        log.push(`end ${items.join(',')}`);
        return items;
      },
      { writers: 2, ready: () => statements },
    );
    const turns = async (until: () => boolean) => {
      while (!until()) await new Promise((resolve) => setImmediate(resolve));
    };
    const first = writer.submit(1);
    await turns(() => gates.has(1));
    // While the first writes its statements, the second writer waits, and all that arrive join.
    const later = [2, 3].map((i) => writer.submit(i));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    later.push(writer.submit(4));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['start 1'], 'the second waits for the first to be ready');
    gates.get(1)!.statements.open();
    await turns(() => gates.has(2));
    assert.deepEqual(log, ['start 1', 'start 2,3,4'], 'before the first ends');
    gates.get(1)!.commit.open();
    gates.get(2)!.statements.open();
    gates.get(2)!.commit.open();
    assert.deepEqual(await Promise.all([first, ...later]), [1, 2, 3, 4]);
    assert.deepEqual(log, ['start 1', 'start 2,3,4', 'end 1', 'end 2,3,4']);
  });

  it('with a spacing, writes requests that arrive apart in one batch', async () => {
    const batches: number[][] = [];
    const writer = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        return items;
      },
      // Far longer than the requests' spread below, however loaded the machine.
      { spacingMs: 1_000 },
    );
    // The first goes alone: no batch started within the spacing before it.
    assert.equal(await writer.submit(1), 1);
    const apart: Promise<number>[] = [];
    for (const i of [2, 3, 4]) {
      apart.push(writer.submit(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await Promise.all(apart), [2, 3, 4]);
    assert.deepEqual(batches, [[1], [2, 3, 4]], 'a batch per spacing, not one per request');
  });

  it('with a spacing and two writers, never writes an empty batch', async () => {
    const batches: number[][] = [];
    const writer = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        return items;
      },
      { spacingMs: 1_000, writers: 2 },
    );
    assert.equal(await writer.submit(1), 1);
    // Both writers wait out the spacing; the first to wake takes both requests.
    const second = writer.submit(2);
    await new Promise((r) => setTimeout(r, 5));
    const third = writer.submit(3);
    assert.deepEqual(await Promise.all([second, third]), [2, 3]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(batches, [[1], [2, 3]], 'no empty batch from the writer that woke second');
  });

  it('fails one item alone when the write answers an ItemFailure for it', async () => {
    const writer = new GroupCommit<number, number>(async (items) =>
      items.map((i) => (i === 2 ? new ItemFailure(new Error('not this one')) : i)),
    );
    const [one, two, three] = await Promise.allSettled([1, 2, 3].map((i) => writer.submit(i)));
    assert.deepEqual(one, { status: 'fulfilled', value: 1 });
    assert.match(String((two as PromiseRejectedResult).reason), /not this one/);
    assert.deepEqual(three, { status: 'fulfilled', value: 3 });
  });
});

for (const database of TEST_DATABASES) {
  describe(`heartbeats written together (${database.name})`, () => {
    it('each node extends only its own leases, hears what to stop, and has its progress answered alone', async () => {
      const t = await startTestEngine(database);
      try {
        const { ctx, settings, dispatcher } = t.engine;
        await submitJob(ctx, {
          type: 'command-line',
          user: 'alice',
          frames: '1-2',
          parameters: { executable: 'echo' },
        });
        const a = await registerNode(ctx, { name: 'a' });
        const b = await registerNode(ctx, { name: 'b' });
        const ea = (await dispatcher.tryAcquire(a.id))!.execution.id;
        const eb = (await dispatcher.tryAcquire(b.id))!.execution.id;
        t.clock.advance(1000);
        const [fromA, fromB, unknown] = await Promise.allSettled([
          nodeHeartbeat(ctx, settings, a.id, [ea, eb]),
          nodeHeartbeat(ctx, settings, b.id, [eb]),
          nodeHeartbeat(ctx, settings, 999, [ea]),
        ]);
        assert.deepEqual(fromA, { status: 'fulfilled', value: { stop: [eb] } });
        assert.deepEqual(fromB, { status: 'fulfilled', value: { stop: [] } });
        assert.equal(unknown.status, 'rejected');
        assert.match(String((unknown as PromiseRejectedResult).reason), /node 999 does not exist/);
        const now = t.clock.now;
        assert.equal((await findExecution(ctx.db, ea))!.lease_expires_at, now + settings.leaseMs);
        assert.equal((await findExecution(ctx.db, eb))!.lease_expires_at, now + settings.leaseMs);

        // Progress reports written together: each answered on its own.
        const [ok, wrongNode, missing] = await Promise.allSettled([
          reportProgress(ctx, settings, ea, a.id, 40),
          reportProgress(ctx, settings, eb, a.id, 50),
          reportProgress(ctx, settings, 999, a.id, 60),
          reportProgress(ctx, settings, eb, b.id, 70),
        ]);
        assert.equal(ok.status, 'fulfilled');
        assert.match(String((wrongNode as PromiseRejectedResult).reason), /held by node/);
        assert.match(
          String((missing as PromiseRejectedResult).reason),
          /execution 999 does not exist/,
        );
        const ta = (await findExecution(ctx.db, ea))!.task_id;
        const tb = (await findExecution(ctx.db, eb))!.task_id;
        assert.equal((await findTask(ctx.db, ta))!.progress, 40);
        assert.equal((await findTask(ctx.db, tb))!.progress, 70);

        // A lease that ran out is not revived by a late heartbeat: the node must stop.
        t.clock.advance(settings.leaseMs + 1);
        assert.deepEqual(await nodeHeartbeat(ctx, settings, a.id, [ea]), { stop: [ea] });
      } finally {
        await t.close();
      }
    });
  });
}
