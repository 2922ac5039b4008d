import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
} from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 18, the operator's actions in a real Chromium: only the actions a job's state allows
 * are offered, cancel/delete/purge ask first with a count, failed tasks are retried from a
 * job and from a selection, and a failed job opens on its first failed task with the last
 * stderr lines of that task in the banner. A real worker makes the failures, then stops, so
 * every other job stays where the test puts it.
 */

const FAILING =
  'for i in $(seq 1 300); do echo "render line $i"; done; ' +
  'echo "warning: slow disk" >&2; echo "ERROR: texture /show/tex/rock_$DROVER_START.tx not found" >&2; exit 3';

for (const database of TEST_DATABASES) {
  describe(`web UI: operator actions (${database.name})`, { timeout: 180_000 }, () => {
    let e2e: E2eServer;
    let browser: Browser;
    let page: Page;
    type Seeded =
      | 'failed'
      | 'failed2'
      | 'failed3'
      | 'completed'
      | 'suspended'
      | 'queued1'
      | 'queued2'
      | 'doomed';
    const ids = {} as Record<Seeded, number>;

    const api = (method: string, path: string, body?: unknown) =>
      e2e.api(method, `/api/v1${path}`, body);
    const state = async (id: number) => (await jobState(e2e, id)).state as string;
    const button = (name: string | RegExp) =>
      page
        .locator('.toolbar .actions')
        .getByRole('button', { name, exact: typeof name === 'string' });
    const select = (id: number) => page.getByLabel(`Select job ${id}`).check();
    const clearSelection = () => page.getByRole('button', { name: 'clear' }).click();
    const openJobs = async () => {
      await page.goto(`${e2e.url}/#/jobs?size=100`);
      await page.locator(`tr[data-job="${ids.queued1}"]`).waitFor();
    };

    before(async () => {
      ensureBuilt();
      ensureUiBuilt();
      e2e = await startE2eServer({}, database);
      const worker = startWorker(e2e.url, 'render-01', join(e2e.dataDir, 'render-01'));
      try {
        ids.failed = await submitScript(e2e, FAILING, {
          name: 'fx sim ocean',
          frames: '1-4',
          chunkSize: 2,
          maxTries: 1,
        });
        ids.failed2 = await submitScript(e2e, 'exit 2', { name: 'fx sim smoke', maxTries: 1 });
        ids.failed3 = await submitScript(e2e, 'exit 2', { name: 'fx sim fire', maxTries: 1 });
        ids.completed = await submitScript(e2e, 'true', { name: 'comp shot_010' });
        for (const [id, want] of [
          [ids.failed, 'FAILED'],
          [ids.failed2, 'FAILED'],
          [ids.failed3, 'FAILED'],
          [ids.completed, 'COMPLETED'],
        ] as const) {
          await waitFor(
            `job ${id} ${want}`,
            60_000,
            async () => (await state(id)) === want,
            () => worker.output(),
          );
        }
      } finally {
        await worker.stop();
      }
      ids.suspended = await submitScript(e2e, 'true', {
        name: 'lighting seq_a',
        initialState: 'SUSPENDED',
      });
      ids.queued1 = await submitScript(e2e, 'true', { name: 'editorial a' });
      ids.queued2 = await submitScript(e2e, 'true', { name: 'editorial b' });
      ids.doomed = await submitScript(e2e, 'true', { name: 'temp cleanup' });
      browser = await openBrowser();
      page = browser.page;
    });

    after(async () => {
      await browser?.close();
      await e2e?.close();
    });

    it("enables only the actions the selected jobs' states allow", async () => {
      await openJobs();
      // Nothing selected: nothing to act on.
      assert.equal(await button('Suspend').isDisabled(), true);

      await select(ids.completed);
      assert.equal(await button('Release').isDisabled(), true, 'no Release on COMPLETED');
      assert.equal(await button('Resume').isDisabled(), true);
      assert.equal(await button('Retry failed tasks').isDisabled(), true);
      assert.equal(await button('Cancel').isDisabled(), true);
      assert.equal(await button('Requeue').isDisabled(), false);
      await clearSelection();

      await select(ids.failed);
      assert.equal(await button('Resume').isDisabled(), true, 'no Resume on FAILED');
      assert.equal(await button('Retry failed tasks').isDisabled(), false);
      // Mixed states: the button says how many of the selection it would act on.
      await select(ids.suspended);
      assert.equal(await button(/^Resume/).textContent(), 'Resume (1)');
      assert.equal(await button(/^Retry failed tasks/).textContent(), 'Retry failed tasks (1)');
      await button(/^Resume/).click();
      await page.getByText('Resumed 1 job. Left 1 job alone').waitFor();
      assert.equal(await state(ids.suspended), 'QUEUED');
      assert.equal(await state(ids.failed), 'FAILED', 'the failed job was not sent a resume');
      await clearSelection();

      // A job's own page leaves out what its state does not allow.
      await page.goto(`${e2e.url}/#/jobs/${ids.failed}`);
      await page.locator('h1', { hasText: 'fx sim ocean' }).waitFor();
      await button('Retry failed tasks').waitFor();
      assert.equal(await button('Resume').count(), 0);
      assert.equal(await button('Release').count(), 0);
      await page.goto(`${e2e.url}/#/jobs/${ids.completed}`);
      await page.locator('h1', { hasText: 'comp shot_010' }).waitFor();
      await button('Requeue').waitFor();
      assert.equal(await button('Release').count(), 0);
      assert.equal(await button('Cancel').count(), 0);
      assert.equal(await button('Retry failed tasks').count(), 0);
      assert.deepEqual(browser.problems, []);
    });

    it('asks before cancel, delete and purge, naming how many jobs', async () => {
      await openJobs();
      await select(ids.queued1);
      await select(ids.queued2);
      await button('Cancel').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('heading', { name: 'Cancel 2 jobs?' }).waitFor();
      assert.match((await dialog.textContent()) ?? '', /editorial a/);
      await dialog.getByRole('button', { name: 'Go back' }).click();
      await dialog.waitFor({ state: 'detached' });
      assert.equal(await state(ids.queued1), 'QUEUED', 'going back cancels nothing');
      assert.equal(await state(ids.queued2), 'QUEUED');

      await button('Cancel').click();
      await dialog.getByRole('button', { name: 'Cancel 2 jobs' }).click();
      await page.getByText('Canceled 2 jobs.').waitFor();
      assert.equal(await state(ids.queued1), 'CANCELED');
      assert.equal(await state(ids.queued2), 'CANCELED');
      await clearSelection();

      // One job asks too, and Escape leaves it alone.
      await select(ids.doomed);
      await button('Delete').click();
      await dialog.getByRole('heading', { name: 'Delete 1 job?' }).waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      assert.equal((await api('GET', `/jobs/${ids.doomed}`)).body.deleted, false);
      await button('Delete').click();
      await dialog.getByRole('button', { name: 'Delete 1 job' }).click();
      await page.getByText('Deleted 1 job.').waitFor();
      assert.equal((await api('GET', `/jobs/${ids.doomed}`)).body.deleted, true);
      await clearSelection();

      await page.getByLabel('Deleted jobs').selectOption('only');
      await page.locator(`tr[data-job="${ids.doomed}"]`).waitFor();
      await select(ids.doomed);
      await button('Purge').click();
      await dialog.getByRole('heading', { name: 'Purge 1 job?' }).waitFor();
      await dialog.getByRole('button', { name: 'Purge 1 job' }).click();
      await page.getByText('Purged 1 job.').waitFor();
      assert.equal((await api('GET', `/jobs/${ids.doomed}`)).status, 404);
      assert.deepEqual(browser.problems, []);
    });

    it('opens a failed job on its first failed task, with its last stderr lines', async () => {
      const failed = await api('GET', `/jobs/${ids.failed}/tasks?state=FAILED`);
      const first = failed.body.items[0];
      assert.equal(first.index, 0);
      const execution = (await api('GET', `/executions/${first.lastExecutionId}`)).body;
      assert.ok(execution.logLines > 300, 'the stderr lines are past the first 200 of the log');

      await page.goto(`${e2e.url}/#/jobs/${ids.failed}`);
      const banner = page.getByTestId('failure');
      await banner.locator('.failure-lines').waitFor();
      const text = (await banner.locator('.failure-lines').textContent()) ?? '';
      assert.equal(text, 'warning: slow disk\nERROR: texture /show/tex/rock_1.tx not found');
      assert.match((await banner.textContent()) ?? '', /Task 0 \(frames 1-2\) failed/);
      assert.match((await banner.textContent()) ?? '', /exit code 3/);

      // The task and its log are open without a click.
      await page.locator(`.task-panel[data-task="${first.id}"]`).waitFor();
      const log = page.getByTestId('log-lines');
      await log.locator('.log-line', { hasText: 'rock_1.tx not found' }).waitFor();
      assert.match(
        (await page.locator('.log-bar').textContent()) ?? '',
        new RegExp(`Execution ${execution.id}\\b`),
      );
      assert.deepEqual(browser.problems, []);
    });

    it('retries the failed tasks of a job and of a selection', async () => {
      await page.goto(`${e2e.url}/#/jobs/${ids.failed2}`);
      await page.locator('h1', { hasText: 'fx sim smoke' }).waitFor();
      await button('Retry failed tasks').click();
      await page.getByText('Retried the failed tasks of 1 job.').waitFor();
      const job = await jobState(e2e, ids.failed2);
      assert.equal(job.state, 'QUEUED');
      assert.equal(job.tasks.failed, 0);
      await page.locator('.page-head .badge[data-state="QUEUED"]').waitFor();

      await openJobs();
      await select(ids.failed3);
      await select(ids.completed);
      await button(/^Retry failed tasks/).click();
      await page.getByText('Retried the failed tasks of 1 job. Left 1 job alone').waitFor();
      assert.equal(await state(ids.failed3), 'QUEUED');
      assert.equal(await state(ids.completed), 'COMPLETED');
      assert.deepEqual(browser.problems, []);
    });
  });
}
