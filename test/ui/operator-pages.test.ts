import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';
import { ensureUiBuilt, openBrowser, screenshot, VIEWPORT, type Browser } from './support.js';

/*
 * Issue 18, an operator's pages in a real Chromium with auth on and a real worker: a job's
 * usage and the nodes that failed it (cleared from the page, after which the node takes
 * the job again), the limits page (use against max, live; admins edit), a user's own
 * notification rules, and the layouts at 1280 px and on a tablet.
 */

for (const database of TEST_DATABASES) {
  describe(`web UI: operator pages (${database.name})`, { timeout: 480_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;
    let browser: Browser;
    let page: Page;
    let gate: string;
    let admin: string;
    let alice: string;
    let failing: number;

    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${e2e.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const signIn = async (token: string, path: string) => {
      await page.goto(`${e2e.url}/`);
      await page.evaluate(`localStorage.setItem("drover.token", ${JSON.stringify(token)})`);
      await page.goto(`${e2e.url}/#${path}`);
      await page.reload();
    };
    const explain = () => [...browser.problems, worker.output()].join('\n');

    before(async () => {
      ensureBuilt();
      ensureUiBuilt();
      e2e = await startE2eServer({ auth: true }, database);
      const ctx = e2e.server.engine.ctx;
      await addUser(ctx, 'root', 'admin');
      await addUser(ctx, 'alice', 'user');
      admin = await createToken(ctx, 'root');
      alice = await createToken(ctx, 'alice');
      gate = join(e2e.dataDir, 'gate');
      worker = startWorker(e2e.url, 'render-01', join(e2e.dataDir, 'render-01'), [
        '--token',
        admin,
        '--slots',
        '2',
      ]);
      // Fails once on render-01, which one failure blocks from it: it waits for an operator.
      const submitted = await call(alice, 'POST', '/jobs', {
        type: 'shell-script',
        name: 'sim crash',
        parameters: { script: 'sleep 0.2; echo "segfault" >&2; exit 3' },
        maxTries: 2,
        badNodeFailures: 1,
      });
      assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
      failing = submitted.body.id;
      await waitFor(
        'render-01 blocked from the job',
        60_000,
        async () => {
          const failures = (await call(alice, 'GET', `/jobs/${failing}/node-failures`)).body;
          return failures.items[0]?.blocked === true;
        },
        () => worker.output(),
      );
      browser = await openBrowser();
      page = browser.page;
    });

    after(async () => {
      if (gate) writeFileSync(gate, '');
      await browser?.close();
      await worker?.stop();
      await e2e?.close();
    });

    it("shows a job's usage and the node that failed it, and clears it", async () => {
      await signIn(alice, `/jobs/${failing}`);
      const usage = page.locator('[data-section="usage"]');
      await usage.locator('[data-usage="executions"]').waitFor();
      assert.equal(await usage.locator('[data-usage="executions"]').textContent(), '1');
      // A fraction of a second: measured by the worker, too small to print in hours.
      assert.match((await usage.locator('[data-usage="wall"]').textContent()) ?? '', /^< 0\.01 h$/);
      assert.match((await usage.locator('[data-usage="cpu"]').textContent()) ?? '', /h$/);

      const bad = page.locator('[data-section="bad-nodes"] tr[data-bad-node]');
      await bad.waitFor();
      assert.match((await bad.textContent()) ?? '', /^render-01 blocked1/);
      await bad.getByRole('button', { name: 'Clear' }).click();
      await page
        .getByText('Cleared the failures of render-01: 1 blocked node may take the job again.')
        .waitFor();
      // Let back, the node runs the job's second try, which fails it for good.
      await waitFor(
        'the second try',
        60_000,
        async () => (await call(alice, 'GET', `/jobs/${failing}`)).body.state === 'FAILED',
        explain,
      );
      await waitFor('two executions counted', 10_000, async () => {
        const text = await usage.locator('[data-usage="executions"]').textContent();
        return text === '2';
      });
      assert.deepEqual(browser.problems, [], explain());
    });

    it("the usage page sums the farm's executions by user and by job, as the API does", async () => {
      await signIn(alice, '/usage');
      const row = page.locator('tr[data-usage-row="alice"]');
      await row.waitFor();
      const cells = async (r: typeof row) => (await r.locator('td').allTextContents()).slice(0, 2);
      assert.deepEqual(await cells(row), ['alice', '2']);
      assert.deepEqual(await cells(page.locator('tr[data-usage-row="Total"]')), ['Total', '2']);
      const api = (await call(alice, 'GET', '/usage?group=user')).body;
      assert.equal(
        await row.locator('[data-usage="wall"]').textContent(),
        api.items[0].wallHours < 0.01 && api.items[0].wallHours > 0
          ? '< 0.01'
          : api.items[0].wallHours.toFixed(2),
      );
      await page.locator('select[name="group"]').selectOption('job');
      await page.locator(`tr[data-usage-row="${failing}"]`).waitFor();
      await page.locator('select[name="days"]').selectOption('1');
      await page.locator(`tr[data-usage-row="${failing}"]`).waitFor();
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download CSV' }).click();
      assert.equal((await download).suggestedFilename(), 'usage-job.csv');
      assert.deepEqual(browser.problems, [], explain());
    });

    it('lists limits with their use, live, and lets only an admin change them', async () => {
      await signIn(admin, '/limits');
      await page.getByText('No limits.').waitFor();
      const form = page.getByRole('form', { name: 'New limit' });
      await form.getByLabel('Name').fill('nuke');
      await form.getByLabel('Max').fill('1');
      await form.getByLabel('Description').fill('Nuke render licences');
      await form.getByRole('button', { name: 'Create' }).click();
      await page.getByText('Created limit nuke.').waitFor();
      const row = page.locator('tr[data-limit="nuke"]');
      assert.equal(await row.locator('[data-use]').getAttribute('data-use'), '0/1');

      // A refusal from the server is shown by the form.
      await form.getByLabel('Name').fill('no spaces allowed');
      await form.getByRole('button', { name: 'Create' }).click();
      assert.match((await form.getByRole('alert').textContent()) ?? '', /name/);

      const held = await call(alice, 'POST', '/jobs', {
        type: 'shell-script',
        name: 'comp with nuke',
        parameters: { script: `while [ ! -f '${gate}' ]; do sleep 0.1; done` },
        limits: ['nuke'],
      });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      await waitFor('the licence in use, on the page', 60_000, async () => {
        return (await row.locator('[data-use]').getAttribute('data-use')) === '1/1';
      });
      assert.match((await row.locator('.limit-use').getAttribute('class')) ?? '', /full/);

      await row.getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('form', { name: 'Change limit nuke' });
      await edit.getByLabel('Max').fill('3');
      await edit.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved limit nuke.').waitFor();
      await row.locator('[data-use="1/3"]').waitFor();
      assert.equal((await call(admin, 'GET', '/limits/nuke')).body.maxCount, 3);

      await signIn(alice, '/limits');
      await row.locator('[data-use="1/3"]').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Edit' }).count(), 0);
      assert.equal(await page.getByRole('form', { name: 'New limit' }).count(), 0);
      assert.equal((await call(alice, 'PATCH', '/limits/nuke', { maxCount: 9 })).status, 403);

      await signIn(admin, '/limits');
      await row.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Delete limit nuke?' })
        .getByRole('button', { name: 'Delete limit' })
        .click();
      await page.getByText('Deleted limit nuke.').waitFor();
      assert.equal((await call(admin, 'GET', '/limits/nuke')).status, 404);
      assert.deepEqual(browser.problems, [], explain());
    });

    it('lets a user create, pause and delete their own notification rules', async () => {
      const global = await call(admin, 'POST', '/notification-rules', {
        name: 'farm failures',
        events: ['job.failed'],
        channel: 'webhook',
        target: 'http://127.0.0.1:9/farm',
        global: true,
      });
      assert.equal(global.status, 201, JSON.stringify(global.body));

      await signIn(alice, '/notifications');
      await page.getByText('No rules yet').waitFor();
      const form = page.getByRole('form', { name: 'New notification rule' });
      await form.getByLabel('Name').fill('my crashes');
      await form.getByLabel('a task fails N times').check();
      await form.getByLabel('Task failures (N)').fill('2');
      await form.getByLabel('URL').fill('http://127.0.0.1:9/alice');
      await form.getByRole('button', { name: 'Create rule' }).click();
      await page.getByText('Created rule my crashes.').waitFor();
      await page.getByText(/its webhook signing secret is/).waitFor();

      const rules = (await call(alice, 'GET', '/notification-rules')).body.items;
      assert.equal(rules.length, 1, 'the global rule is not hers');
      assert.deepEqual(
        [rules[0].owner, rules[0].events.sort(), rules[0].taskFailures],
        ['alice', ['job.failed', 'task.failed'], 2],
      );
      const row = page.locator(`tr[data-rule="${rules[0].id}"]`);
      // The message shows at the create's answer; the table's reload follows it.
      await row.waitFor();
      assert.equal(await page.locator('tr[data-rule]').count(), 1);
      await row.getByRole('button', { name: 'Pause' }).click();
      await page.getByText('Paused rule my crashes.').waitFor();
      assert.equal(
        (await call(alice, 'GET', `/notification-rules/${rules[0].id}`)).body.enabled,
        false,
      );

      // Refused input comes back as the server's message.
      await form.getByLabel('URL').fill('not a url');
      await form.getByRole('button', { name: 'Create rule' }).click();
      await form.getByRole('alert').waitFor();

      await row.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Delete rule my crashes?' })
        .getByRole('button', { name: 'Delete rule' })
        .click();
      await page.getByText('Deleted rule my crashes.').waitFor();
      assert.equal((await call(alice, 'GET', '/notification-rules')).body.items.length, 0);
      assert.deepEqual(browser.problems, [], explain());
    });

    it('fits 1280 px and a tablet without spilling sideways', async () => {
      const shots = database.name === 'sqlite';
      for (const [width, height, name] of [
        [1280, 800, '1280'],
        [820, 1180, 'tablet'],
      ] as const) {
        await page.setViewportSize({ width, height });
        for (const [path, drawn] of [
          ['/jobs', 'tr[data-job]'],
          ['/nodes', 'tr[data-node] [data-usage="cpu"]'],
          [`/jobs/${failing}`, '[data-section="usage"] dl'],
        ] as const) {
          await signIn(admin, path);
          // The event stream stays open, so the network is never idle: wait for the content.
          await page.locator(drawn).first().waitFor();
          const spill = await page.evaluate<number>(
            'document.documentElement.scrollWidth - window.innerWidth',
          );
          assert.ok(spill <= 0, `${path} at ${width} px spills ${spill} px sideways`);
          const nav = await page.locator('header.top').boundingBox();
          assert.ok(nav && nav.width <= width, `${path}: header ${nav?.width} px`);
          if (shots && path !== `/jobs/${failing}`) {
            await screenshot(page, `${path.slice(1)}-${name}`);
          }
        }
      }
      await page.setViewportSize(VIEWPORT);
      assert.deepEqual(browser.problems, [], explain());
    });
  });
}
