import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startE2eServer, submitScript, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 18 in a real Chromium: the theme follows the system's colour scheme until the
 * toggle pins light or dark (kept across a reload), and a job's page lists the jobs it
 * waits on and the jobs that wait on it, a page of them with a count of the rest.
 */

const LIGHT_BG = 'rgb(245, 246, 248)';
const DARK_BG = 'rgb(11, 17, 32)';

for (const database of TEST_DATABASES) {
  describe(`web UI: theme and dependencies (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let browser: Browser;
    let page: Page;

    const background = () =>
      page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');

    before(async () => {
      ensureUiBuilt();
      e2e = await startE2eServer({}, database);
      browser = await openBrowser();
      page = browser.page;
    });

    after(async () => {
      await browser?.close();
      await e2e?.close();
    });

    it('follows the system until the toggle pins a theme, and keeps the choice', async () => {
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.goto(`${e2e.url}/#/jobs`);
      await page.getByRole('heading', { name: 'Jobs' }).waitFor();
      assert.equal(await background(), DARK_BG);
      await page.emulateMedia({ colorScheme: 'light' });
      assert.equal(await background(), LIGHT_BG);

      await page.getByLabel('Theme').selectOption('dark');
      assert.equal(await background(), DARK_BG, 'dark on a light system');
      await page.reload();
      await page.getByRole('heading', { name: 'Jobs' }).waitFor();
      assert.equal(await background(), DARK_BG, 'kept across a reload');
      assert.equal(await page.getByLabel('Theme').inputValue(), 'dark');

      await page.emulateMedia({ colorScheme: 'dark' });
      await page.getByLabel('Theme').selectOption('light');
      assert.equal(await background(), LIGHT_BG, 'light on a dark system');
      await page.getByLabel('Theme').selectOption('auto');
      assert.equal(await background(), DARK_BG, 'the system again');
      await page.emulateMedia({ colorScheme: 'light' });
      assert.deepEqual(browser.problems, []);
    });

    it('lists the jobs a job depends on and the jobs that depend on it', async () => {
      const sim = await submitScript(e2e, 'true', { name: 'fx sim', initialState: 'SUSPENDED' });
      const cache = await submitScript(e2e, 'true', { name: 'fx cache' });
      const render = await submitScript(e2e, 'true', {
        name: 'render',
        dependencies: [sim, cache],
      });
      const previews: number[] = [];
      for (let i = 0; i < 20; i++) {
        previews.push(
          await submitScript(e2e, 'true', { name: `preview ${i}`, dependencies: [sim] }),
        );
      }

      await page.goto(`${e2e.url}/#/jobs/${render}`);
      await page.locator('h1', { hasText: 'render' }).waitFor();
      const dependsOn = page.locator('ul[data-relation="dependencyOf"]');
      await dependsOn.locator('li[data-job]').nth(1).waitFor();
      assert.deepEqual(
        await dependsOn.locator('li[data-job]').evaluateAll((els) => els.map((e) => e.textContent)),
        [`#${sim} fx sim suspended`, `#${cache} fx cache queued`],
      );
      assert.equal(await page.locator('ul[data-relation="dependsOn"]').count(), 0);

      // The sim: 21 jobs wait on it; 20 are listed and the rest counted.
      await dependsOn.getByRole('link', { name: `#${sim} fx sim` }).click();
      await page.locator('h1', { hasText: 'fx sim' }).waitFor();
      const neededBy = page.locator('ul[data-relation="dependsOn"]');
      await neededBy.locator('li[data-job]').first().waitFor();
      assert.equal(await neededBy.locator('li[data-job]').count(), 20);
      assert.equal(
        Number(await neededBy.locator('li[data-job]').first().getAttribute('data-job')),
        render,
      );
      assert.equal(await neededBy.locator('li.muted').textContent(), 'and 1 more');
      await page.getByRole('heading', { name: 'Needed by' }).waitFor();
      assert.equal(await page.locator('ul[data-relation="dependencyOf"]').count(), 0);
      assert.deepEqual(browser.problems, []);
    });
  });
}
