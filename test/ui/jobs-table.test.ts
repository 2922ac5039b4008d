import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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
  type WorkerProcess,
} from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 18, the jobs table for an operator, in a real Chromium: elapsed time, an ETA from
 * completed tries, errors, owner and pool columns; a column chooser that remembers; shift
 * to select a range; and the keyboard (j/k, x, s, r, /, ?). A real worker runs a job whose
 * first task completes while the others wait at a gate file, so its ETA has a figure.
 */

for (const database of TEST_DATABASES) {
  describe(`web UI: jobs table (${database.name})`, { timeout: 180_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;
    let browser: Browser;
    let page: Page;
    let gate: string;
    let running: number;
    let erring: number;
    const queued: number[] = [];

    const cell = (id: number, column: string) =>
      page.locator(`tr[data-job="${id}"] td[data-column="${column}"]`);
    const text = async (id: number, column: string) => (await cell(id, column).textContent()) ?? '';
    const explain = () => [...browser.problems, worker.output()].join('\n');

    before(async () => {
      ensureBuilt();
      ensureUiBuilt();
      e2e = await startE2eServer({}, database);
      gate = join(e2e.dataDir, 'gate');
      worker = startWorker(e2e.url, 'render-01', join(e2e.dataDir, 'render-01'), ['--slots', '2']);
      erring = await submitScript(e2e, 'echo "no licence" >&2; exit 1', {
        name: 'fx sim ocean',
        user: 'carol',
        maxTries: 2,
      });
      await waitFor('the erring job to fail', 60_000, async () => {
        return (await jobState(e2e, erring)).state === 'FAILED';
      });
      running = await submitScript(
        e2e,
        `if [ "$DROVER_START" -gt 1 ]; then while [ ! -f '${gate}' ]; do sleep 0.1; done; fi`,
        { name: 'render shot_040', user: 'bob', pool: '', frames: '1-6', chunkSize: 1 },
      );
      await waitFor(
        'one task done and two at the gate',
        60_000,
        async () => {
          const job = await jobState(e2e, running);
          return job.tasks.completed === 1 && job.tasks.running === 2;
        },
        () => worker.output(),
      );
      for (const [i, user] of ['alice', 'alice', 'dave', 'erin'].entries()) {
        queued.push(
          await submitScript(e2e, 'true', {
            name: `comp shot_0${i}0`,
            user,
            pool: 'nuke',
            initialState: 'SUSPENDED',
          }),
        );
      }
      browser = await openBrowser();
      page = browser.page;
    });

    after(async () => {
      writeFileSync(gate, '');
      await browser?.close();
      await worker?.stop();
      await e2e?.close();
    });

    it('shows elapsed time, an ETA from completed tries, errors, owner and pool', async () => {
      await page.goto(`${e2e.url}/#/jobs`);
      await page.locator(`tr[data-job="${running}"]`).waitFor();
      await waitFor('the ETA of the running job', 10_000, async () =>
        /^~\d/.test(await text(running, 'eta')),
      );
      // Five left (two of them running), two at a time: three waves of the completed try.
      assert.match(
        (await cell(running, 'eta').locator('span').getAttribute('title')) ?? '',
        /^5 tasks left, 2 at a time, .* each \(mean of the last 1 completed\)$/,
      );
      assert.match(await text(running, 'elapsed'), /^\d+ (ms|s|min)/);
      assert.equal(await text(running, 'errors'), '0');
      assert.equal(await text(running, 'owner'), 'bob');
      assert.equal(await text(running, 'pool'), '—');
      // The failed job: both tries counted, no ETA.
      await waitFor('its errors', 10_000, async () => (await text(erring, 'errors')) === '2');
      assert.equal(await text(erring, 'eta'), '—');
      assert.equal(await text(queued[0]!, 'pool'), 'nuke');
      assert.equal(await text(queued[0]!, 'elapsed'), '—', 'not started');
      assert.deepEqual(browser.problems, []);
    });

    it('hides and shows columns, and remembers the choice', async () => {
      await page.locator('.column-chooser summary').click();
      const chooser = page.getByRole('group', { name: 'Columns to show' });
      await chooser.getByLabel('Pool').uncheck();
      await chooser.getByLabel('Started').check();
      await page.locator('th[data-column="started"]').waitFor();
      assert.equal(await page.locator('th[data-column="pool"]').count(), 0);
      assert.equal(await chooser.getByLabel('Name').isDisabled(), true);

      await page.reload();
      await page.locator(`tr[data-job="${running}"]`).waitFor();
      assert.equal(await page.locator('th[data-column="pool"]').count(), 0);
      assert.equal(await page.locator('th[data-column="started"]').count(), 1);
      await page.locator('.column-chooser summary').click();
      await chooser.getByLabel('Pool').check();
      await page.locator('th[data-column="pool"]').waitFor();
      await page.locator('.column-chooser summary').click();
    });

    it('selects a range with shift', async () => {
      // Newest first: queued[3], [2], [1], [0].
      await page.getByLabel(`Select job ${queued[3]}`).click();
      await page.getByLabel(`Select job ${queued[0]}`).click({ modifiers: ['Shift'] });
      await page.getByText('4 selected').waitFor();
      for (const id of queued)
        assert.equal(await page.getByLabel(`Select job ${id}`).isChecked(), true);
      assert.equal(await page.getByLabel(`Select job ${running}`).isChecked(), false);
      // Shift again from the last click unselects the range.
      await page.getByLabel(`Select job ${queued[2]}`).click({ modifiers: ['Shift'] });
      await page.getByText('1 selected').waitFor();
      assert.equal(await page.getByLabel(`Select job ${queued[3]}`).isChecked(), true);
      await page.getByRole('button', { name: 'clear' }).click();
    });

    it('moves, selects and acts from the keyboard', async () => {
      await page.reload();
      await page.locator(`tr[data-job="${running}"]`).waitFor();
      const current = () => page.locator('tr[aria-current="true"]').getAttribute('data-job');
      await page.keyboard.press('j');
      assert.equal(Number(await current()), queued[3]);
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      await page.keyboard.press('k');
      assert.equal(Number(await current()), queued[2]);

      // r on nothing selected resumes the current row.
      await page.keyboard.press('r');
      await page.getByText('Resumed 1 job.').waitFor();
      assert.equal((await jobState(e2e, queued[2]!)).state, 'QUEUED');
      // The table reloads on the resume's events; keys pressed before it has would act on
      // the rows as they were (a CI run on PostgreSQL once suspended the wrong pair).
      await page.locator(`tr[data-job="${queued[2]}"] [data-state="QUEUED"]`).waitFor();

      await page.keyboard.press('x');
      await page.keyboard.press('j');
      await page.keyboard.press('x');
      await page.getByText('2 selected').waitFor();
      await page.keyboard.press('s');
      await page.getByText('Suspended 1 job. Left 1 job alone').waitFor();
      assert.equal((await jobState(e2e, queued[2]!)).state, 'SUSPENDED');

      await page.keyboard.press('/');
      assert.equal(
        await page.getByLabel('Search job names').evaluate((el) => el.matches(':focus')),
        true,
      );
      // Typed into the search box, "j" is a letter, not a move.
      await page.keyboard.type('j');
      assert.equal(Number(await current()), queued[1]);
      await page.getByLabel('Search job names').fill('');
      await page.locator('body').click({ position: { x: 5, y: 5 } });

      await page.keyboard.press('?');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      assert.match((await help.textContent()) ?? '', /suspend the selected jobs/);
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });
      assert.deepEqual(browser.problems, [], explain());
    });
  });
}
