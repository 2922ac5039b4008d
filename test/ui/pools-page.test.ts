import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startE2eServer, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * The pools page in a real Chromium: each pool with a scheduling mode or path mapping rules
 * (docs/workers.md#path-mapping), its rules in their order; an admin adds a rule (the
 * server's refusal shows beside the form) and removes one.
 */

for (const database of TEST_DATABASES) {
  describe(`web UI: pools page (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let browser: Browser;
    let page: Page;

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

    const rulesOf = async (pool: string) =>
      (await e2e.api('GET', `/api/v1/pools/${pool}/path-mapping-rules`)).body
        .path_mapping_rules as { source_path: string; destination_path: string }[];

    it("shows each pool's rules, and an admin adds and removes them", async () => {
      let res = await e2e.api('PUT', '/api/v1/pools/farm', {
        mode: 'balanced',
        description: 'lighting',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      res = await e2e.api('PUT', '/api/v1/pools/render/path-mapping-rules', {
        path_mapping_rules: [
          {
            source_path_format: 'WINDOWS',
            source_path: 'P:\\projects',
            destination_path: '/mnt/p',
          },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));

      await page.goto(`${e2e.url}/#/pools`);
      await page.locator('h1', { hasText: 'Pools' }).waitFor();
      const render = page.locator('tr[data-pool="render"]');
      await render.waitFor();
      assert.match((await render.textContent()) ?? '', /priority.*WINDOWS P:\\projects → \/mnt\/p/);
      assert.match(
        (await page.locator('tr[data-pool="farm"]').textContent()) ?? '',
        /balanced \(lighting\)\s*none/,
      );

      const form = page.getByRole('form', { name: 'New path mapping rule' });
      await form.getByLabel('Pool').fill('render');
      await form.getByLabel('Source path').fill('Volumes/projects');
      await form.getByLabel('Destination path').fill('/mnt/p');
      await form.getByRole('button', { name: 'Add rule' }).click();
      await form
        .locator('.field-error', { hasText: 'source_path must be an absolute POSIX path' })
        .waitFor();
      assert.equal((await rulesOf('render')).length, 1, 'a refused rule is not kept');

      await form.getByLabel('Source path').fill('/Volumes/projects');
      await form.getByRole('button', { name: 'Add rule' }).click();
      await page.getByText('Added a path mapping rule to pool render.').waitFor();
      await render.locator('li[data-rule="1"]', { hasText: '/Volumes/projects' }).waitFor();
      assert.deepEqual(
        (await rulesOf('render')).map((r) => r.source_path),
        ['P:\\projects', '/Volumes/projects'],
      );

      await page.getByRole('button', { name: 'Remove P:\\projects from pool render' }).click();
      await page.getByText('Removed P:\\projects from pool render.').waitFor();
      await render.locator('li[data-rule="0"]', { hasText: '/Volumes/projects' }).waitFor();
      assert.deepEqual(
        (await rulesOf('render')).map((r) => r.source_path),
        ['/Volumes/projects'],
      );
      assert.deepEqual(browser.problems, []);
    });
  });
}
