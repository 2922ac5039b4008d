import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJobAction, deleteJob, purgeJob } from '../../src/engine/jobs/job-actions.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { findJob } from '../../src/store/jobs.js';
import { TEST_DATABASES, startTestEngine } from '../helpers/databases.js';

const echo = { type: 'command-line', user: 'alice', parameters: { executable: 'echo' } };

for (const database of TEST_DATABASES) {
  describe(`waiting edge cases (${database.name})`, () => {
    it('releases a job whose only unmet dependency is purged', async () => {
      const t = await startTestEngine(database);
      try {
        const ctx = t.engine.ctx;
        const first = await submitJob(ctx, echo);
        const other = await submitJob(ctx, echo);
        const waiting = await submitJob(ctx, { ...echo, dependencies: [first, other] });
        await deleteJob(ctx, first);
        await purgeJob(ctx, first);
        // `other` is still unmet, so it keeps waiting.
        assert.equal((await findJob(ctx.db, waiting))?.state, 'PENDING');
        await applyJobAction(ctx, other, 'complete');
        assert.equal((await findJob(ctx.db, waiting))?.state, 'QUEUED');

        const lone = await submitJob(ctx, echo);
        const onLone = await submitJob(ctx, { ...echo, dependencies: [lone] });
        await deleteJob(ctx, lone);
        await purgeJob(ctx, lone);
        const released = await findJob(ctx.db, onLone);
        assert.equal(released?.state, 'QUEUED');
        assert.equal(released?.tasks_queued, 1);

        // Released from its dependency, a job whose schedule lies ahead waits on the schedule.
        const early = await submitJob(ctx, echo);
        const later = await submitJob(ctx, {
          ...echo,
          dependencies: [early],
          scheduledAt: t.clock.now + 60_000,
        });
        await deleteJob(ctx, early);
        await purgeJob(ctx, early);
        const scheduled = await findJob(ctx.db, later);
        assert.equal(scheduled?.state, 'PENDING');
        assert.equal(scheduled?.pend_reason, 'SCHEDULE');
      } finally {
        await t.close();
      }
    });

    it('resuming a job whose schedule lies ahead keeps it pending on the schedule', async () => {
      const t = await startTestEngine(database);
      try {
        const ctx = t.engine.ctx;
        const id = await submitJob(ctx, { ...echo, scheduledAt: t.clock.now + 60_000 });
        await applyJobAction(ctx, id, 'suspend');
        await applyJobAction(ctx, id, 'resume');
        let job = await findJob(ctx.db, id);
        assert.equal(job?.state, 'PENDING');
        assert.equal(job?.pend_reason, 'SCHEDULE');
        assert.equal(job?.tasks_pending, 1);
        t.clock.advance(61_000);
        assert.equal((await t.engine.reaper.tick()).released, 1);
        job = await findJob(ctx.db, id);
        assert.equal(job?.state, 'QUEUED');
      } finally {
        await t.close();
      }
    });
  });
}
