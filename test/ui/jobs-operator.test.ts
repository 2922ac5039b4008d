import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_DATABASES } from '../helpers/databases.js';
import { jobState, startE2eServer, waitFor, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 18, the jobs table for an operator, in a real Chromium: saved views (named filter
 * sets, kept in the browser), a right-click menu that offers only the actions the row's
 * state allows (and still asks before cancelling), and a long page that draws only the rows
 * in view. No worker: the jobs are held (SUSPENDED) or wait QUEUED with no node to run them.
 */

const HELD = 230;

for (const database of TEST_DATABASES) {
  describe(
    `web UI: saved views, menu and long pages (${database.name})`,
    { timeout: 240_000 },
    () => {
      let e2e: E2eServer;
      let browser: Browser;
      let page: Page;
      const held: number[] = [];
      let queued: number;

      const submit = async (body: Record<string, unknown>) => {
        const res = await e2e.api('POST', '/api/v1/jobs', {
          type: 'shell-script',
          parameters: { script: 'true' },
          ...body,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id as number;
      };
      const pagerText = async () =>
        (await page.locator('.pager > span').first().textContent()) ?? '';

      before(async () => {
        ensureUiBuilt();
        e2e = await startE2eServer({}, database);
        for (let i = 0; i < HELD; i++) {
          held.push(await submit({ name: `comp shot_${i}`, initialState: 'SUSPENDED' }));
        }
        queued = await submit({ name: 'render hero' });
        browser = await openBrowser();
        page = browser.page;
      });

      after(async () => {
        await browser?.close();
        await e2e?.close();
      });

      it('saves the filters as a named view, opens it again, and deletes it', async () => {
        await page.goto(`${e2e.url}/#/jobs`);
        await page.locator(`tr[data-job="${queued}"]`).waitFor();
        await page.getByRole('button', { name: 'suspended', exact: true }).click();
        await waitFor('only held jobs', 10_000, async () =>
          (await pagerText()).endsWith(`of ${HELD}`),
        );
        await page.getByRole('button', { name: 'Save view' }).click();
        await page.getByLabel('View name').fill('held comps');
        await page.getByLabel('View name').press('Enter');
        const views = page.getByLabel('Saved views');
        await waitFor(
          'the view chosen',
          5_000,
          async () => (await views.inputValue()) === 'held comps',
        );

        await page.getByRole('button', { name: 'Clear filters' }).click();
        await page.locator(`tr[data-job="${queued}"]`).waitFor();
        assert.equal(await views.inputValue(), '', 'no view matches the cleared filters');

        // Kept across a reload (localStorage), and choosing it brings its filters back.
        await page.reload();
        await page.locator(`tr[data-job="${queued}"]`).waitFor();
        await views.selectOption('held comps');
        await waitFor('the view applied', 10_000, async () =>
          (await pagerText()).endsWith(`of ${HELD}`),
        );
        assert.match(page.url(), /state=SUSPENDED/);
        assert.equal(await page.locator(`tr[data-job="${queued}"]`).count(), 0);

        await page.getByRole('button', { name: 'Delete view' }).click();
        assert.deepEqual(await views.locator('option').allTextContents(), ['No saved views']);
        await page.getByRole('button', { name: 'Clear filters' }).click();
        assert.deepEqual(browser.problems, []);
      });

      it('offers on a right click only the actions the state allows', async () => {
        await page.goto(`${e2e.url}/#/jobs`);
        const heldRow = page.locator(`tr[data-job="${held.at(-1)}"]`);
        await heldRow.waitFor();
        await heldRow.click({ button: 'right' });
        const menu = page.getByRole('menu');
        await menu.waitFor();
        const labels = async () =>
          (await menu.getByRole('menuitem').allTextContents()).map((t) => t.trim());
        const forHeld = await labels();
        assert.ok(forHeld.includes('Resume'), forHeld.join(', '));
        assert.ok(!forHeld.includes('Suspend'), forHeld.join(', '));
        assert.ok(!forHeld.includes('Undelete') && !forHeld.includes('Retry failed tasks'));
        await page.keyboard.press('Escape');
        await menu.waitFor({ state: 'detached' });

        const queuedRow = page.locator(`tr[data-job="${queued}"]`);
        await queuedRow.click({ button: 'right' });
        await menu.waitFor();
        const forQueued = await labels();
        assert.ok(forQueued.includes('Suspend'), forQueued.join(', '));
        assert.ok(!forQueued.includes('Resume') && !forQueued.includes('Release'));

        // Cancel from the menu asks first, with the count, as the toolbar's button does.
        await menu.getByRole('menuitem', { name: 'Cancel' }).click();
        const dialog = page.getByRole('dialog', { name: 'Cancel 1 job?' });
        await dialog.waitFor();
        await dialog.getByRole('button', { name: 'Go back' }).click();
        assert.equal((await jobState(e2e, queued)).state, 'QUEUED');

        // On a selected row the menu acts on the whole selection.
        await page.getByLabel(`Select job ${held.at(-1)}`).click();
        await page.getByLabel(`Select job ${held.at(-2)}`).click();
        await heldRow.click({ button: 'right' });
        await page.getByRole('menu', { name: '2 selected jobs' }).waitFor();
        await menu.getByRole('menuitem', { name: 'Resume' }).click();
        await page.getByText('Resumed 2 jobs.').waitFor();
        assert.equal((await jobState(e2e, held.at(-1)!)).state, 'QUEUED');
        assert.equal((await jobState(e2e, held.at(-2)!)).state, 'QUEUED');
        assert.deepEqual(browser.problems, []);
      });

      it('draws only the visible rows of a 500-row page, and the rest as it scrolls', async () => {
        await page.goto(`${e2e.url}/#/jobs?size=500&sort=id`);
        // A fresh page: no cursor left from the menu's test.
        await page.reload();
        const wrap = page.locator('.table-wrap[data-virtual="true"]');
        await wrap.waitFor();
        await page.locator(`tr[data-job="${held[0]}"]`).waitFor();
        const total = HELD + 1;
        await waitFor('every job counted', 10_000, async () =>
          (await pagerText()).startsWith(`1–${total} of ${total}`),
        );
        const drawn = await page.locator('tbody tr[data-job]').count();
        assert.ok(drawn > 10 && drawn < total, `${drawn} of ${total} rows drawn`);
        assert.equal(await page.locator(`tr[data-job="${queued}"]`).count(), 0);
        assert.equal(
          await page.locator('table.jobs').getAttribute('aria-rowcount'),
          String(total + 1),
        );

        await wrap.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        await page.locator(`tr[data-job="${queued}"]`).waitFor();
        assert.equal(await page.locator(`tr[data-job="${held[0]}"]`).count(), 0);

        // The keyboard's cursor brings a row not drawn into view.
        await wrap.evaluate((el) => el.scrollTo({ top: 0 }));
        await page.locator(`tr[data-job="${held[0]}"]`).waitFor();
        for (let i = 0; i < 60; i++) await page.keyboard.press('j');
        await page.locator('tr[aria-current="true"][data-index="59"]').waitFor();
        assert.deepEqual(browser.problems, []);
      });
    },
  );
}
