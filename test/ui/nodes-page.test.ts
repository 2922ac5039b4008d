import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { inTransaction } from '../../src/engine/context.js';
import { markQuarantined } from '../../src/store/node-quarantine.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 18, the nodes page for an operator, in a real Chromium with auth on: what a node
 * runs named as "job 8 · task 6 (frames 13–14)", a node without pools said to take only
 * pool-less jobs, CPU, memory and GPU sparklines with the last figures in one cell, from the
 * telemetry the server keeps (a real worker's, and figures a node reported through the API),
 * enable/disable and pools and groups editable by admins only, and a quarantine's reason,
 * which an admin lifts.
 */

for (const database of TEST_DATABASES) {
  describe(`web UI: nodes page (${database.name})`, { timeout: 180_000 }, () => {
    let e2e: E2eServer;
    let worker: WorkerProcess;
    let browser: Browser;
    let page: Page;
    let gate: string;
    let admin: string;
    let user: string;
    let job: number;
    let spare: number;
    let render: number;

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
    const signIn = async (token: string) => {
      await page.goto(`${e2e.url}/`);
      await page.evaluate(`localStorage.setItem("drover.token", ${JSON.stringify(token)})`);
      // A hash change alone would keep the page that read no token: load it again.
      await page.goto(`${e2e.url}/#/nodes`);
      await page.reload();
      await page.locator(`tr[data-node="${spare}"]`).waitFor();
    };
    const row = (id: number) => page.locator(`tr[data-node="${id}"]`);

    before(async () => {
      ensureBuilt();
      ensureUiBuilt();
      e2e = await startE2eServer({ auth: true }, database);
      const ctx = e2e.server.engine.ctx;
      await addUser(ctx, 'root', 'admin');
      await addUser(ctx, 'alice', 'user');
      admin = await createToken(ctx, 'root');
      user = await createToken(ctx, 'alice');
      gate = join(e2e.dataDir, 'gate');

      // A node that reports its machine through the API and takes no pool.
      const registered = await call(admin, 'POST', '/nodes', { name: 'spare-01', gpus: 2 });
      assert.equal(registered.status, 200, JSON.stringify(registered.body));
      spare = registered.body.id;
      const beat = await call(admin, 'POST', `/nodes/${spare}/heartbeat`, {
        executions: [],
        telemetry: {
          cpuPercent: 42,
          memUsedBytes: 2 * 2 ** 30,
          memTotalBytes: 8 * 2 ** 30,
          gpus: [
            { index: 0, utilizationPercent: 70 },
            { index: 1, utilizationPercent: 30 },
          ],
        },
      });
      assert.equal(beat.status, 200, JSON.stringify(beat.body));

      worker = startWorker(e2e.url, 'render-01', join(e2e.dataDir, 'render-01'), [
        '--token',
        admin,
        '--slots',
        '1',
        '--pools',
        'nuke',
        '--telemetry-seconds',
        '5',
        '--attribute',
        'attr.site=render',
      ]);
      const submitted = await call(admin, 'POST', '/jobs', {
        type: 'shell-script',
        name: 'render shot_040',
        parameters: {
          script: `if [ "$DROVER_START" -ge 13 ]; then while [ ! -f '${gate}' ]; do sleep 0.1; done; fi`,
        },
        frames: '1-20',
        chunkSize: 2,
      });
      assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
      job = submitted.body.id;
      render = await waitFor(
        'render-01 at the gate with frames 13-14, and its telemetry kept',
        60_000,
        async () => {
          const nodes = (await call(admin, 'GET', '/nodes')).body.items as Array<{
            id: number;
            name: string;
            currentExecutions: number[];
          }>;
          const node = nodes.find((n) => n.name === 'render-01');
          if (!node || node.currentExecutions.length !== 1) return undefined;
          const tasks = (await call(admin, 'GET', `/jobs/${job}/tasks?state=RUNNING`)).body;
          if (tasks.items[0]?.frames !== '13-14') return undefined;
          const history = await call(admin, 'GET', `/nodes/${node.id}/telemetry`);
          return history.body.items.length > 0 ? node.id : undefined;
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

    it('names the running task by job, index and frames, with the slots in use', async () => {
      await signIn(admin);
      const running = row(render).locator('td[data-column="running"]');
      const link = running.locator('a.running-task');
      await link.waitFor();
      assert.equal(await link.textContent(), `job ${job} · task 6 (frames 13–14)`);
      assert.match((await running.textContent()) ?? '', /^1\/1 slot/);
      // What the worker reported for OpenJD host requirements, one line under its resources.
      assert.match(
        (await row(render).locator('[data-column="capabilities"]').textContent()) ?? '',
        /attr\.site=render/,
      );
      await link.click();
      await page.locator('h1', { hasText: 'render shot_040' }).waitFor();
      await page.locator('.task-panel', { hasText: 'Task 6' }).waitFor();
      assert.deepEqual(browser.problems, []);
    });

    it('says a node without pools takes only pool-less jobs', async () => {
      await signIn(admin);
      const pools = row(spare).locator('td[data-column="pools"]');
      assert.equal(await pools.textContent(), 'no pool: pool-less jobs only');
      assert.doesNotMatch((await row(spare).textContent()) ?? '', /\bany\b/);
      assert.equal(await row(render).locator('td[data-column="pools"]').textContent(), 'nuke');
    });

    it("draws CPU and memory from the server's telemetry", async () => {
      await signIn(admin);
      await row(spare).getByRole('img', { name: 'CPU 42% now' }).waitFor();
      await row(spare).getByRole('img', { name: 'Memory 25% now' }).waitFor();
      // One cell holds the lines and the figures last reported; GPUs only for a node with them.
      const usage = row(spare).locator('td[data-column="usage"]');
      assert.deepEqual(
        await usage
          .locator('[data-usage]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-usage'))),
        ['cpu', 'mem', 'gpu'],
      );
      await usage.getByRole('img', { name: 'GPU 70% 30% now' }).waitFor();
      assert.equal(
        await usage.locator('[data-usage="gpu"] svg').getAttribute('data-points'),
        '1',
        'the GPU mean of the one report kept',
      );
      assert.equal(await row(spare).locator('td[data-usage]').count(), 0, 'no separate column');
      // The real worker's own reports.
      const cpu = row(render).locator('[data-usage="cpu"] svg');
      await cpu.waitFor();
      assert.ok(Number(await cpu.getAttribute('data-points')) >= 1);
      assert.match((await cpu.getAttribute('aria-label')) ?? '', /^CPU \d+% now$/);
      assert.deepEqual(browser.problems, []);
    });

    it('lets an admin change the pools and groups a node serves', async () => {
      // spare-01 reports once more, so that it is still online for the next test.
      const beat = await call(admin, 'POST', `/nodes/${spare}/heartbeat`, { executions: [] });
      assert.equal(beat.status, 200, JSON.stringify(beat.body));
      await signIn(admin);
      await row(spare).getByRole('button', { name: 'Pools & groups' }).click();
      const form = page.getByRole('form', { name: 'Pools and groups of spare-01' });
      await form.getByLabel('Pools').fill('nuke, comp');
      await form.getByLabel('Groups').fill('lighting');
      await form.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved spare-01: pools comp, nuke; groups lighting.').waitFor();
      const saved = (await call(admin, 'GET', `/nodes/${spare}`)).body;
      assert.deepEqual([saved.pools, saved.groups], [['comp', 'nuke'], ['lighting']]);
      await waitFor('the row to follow', 10_000, async () => {
        const text = await row(spare).locator('td[data-column="pools"]').textContent();
        return text === 'comp, nuke';
      });

      // The server's refusal is shown in the form.
      await row(spare).getByRole('button', { name: 'Pools & groups' }).click();
      await form.getByLabel('Pools').fill('x'.repeat(129));
      await form.getByRole('button', { name: 'Save' }).click();
      assert.match((await form.getByRole('alert').textContent()) ?? '', /pools/);
      await form.getByRole('button', { name: 'Cancel' }).click();
      // Back to none: pool-less jobs only.
      await row(spare).getByRole('button', { name: 'Pools & groups' }).click();
      await form.getByLabel('Pools').fill('');
      await form.getByLabel('Groups').fill('');
      await form.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Saved spare-01: pools none; groups none.').waitFor();
      assert.deepEqual(browser.problems, []);
    });

    it('lets an admin disable and enable a node, and shows a user no such button', async () => {
      await signIn(admin);
      await row(spare).getByRole('button', { name: 'Disable' }).click();
      await page.getByText('Disabled spare-01.').waitFor();
      await row(spare).locator('.badge[data-state="DISABLED"]').waitFor();
      assert.equal((await call(admin, 'GET', `/nodes/${spare}`)).body.enabled, false);
      await row(spare).getByRole('button', { name: 'Enable' }).click();
      await page.getByText('Enabled spare-01.').waitFor();
      assert.equal((await call(admin, 'GET', `/nodes/${spare}`)).body.enabled, true);

      await signIn(user);
      await row(render).locator('a.running-task').waitFor();
      assert.equal(await page.getByRole('button', { name: /^(Enable|Disable)$/ }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Pools & groups' }).count(), 0);
      assert.equal((await call(user, 'PATCH', `/nodes/${spare}`, { pools: ['x'] })).status, 403);
      // The server refuses it too: the missing button is not the only guard.
      assert.equal((await call(user, 'POST', `/nodes/${spare}/disable`)).status, 403);
      assert.deepEqual(browser.problems, []);
    });

    it('shows why a node is quarantined, and lets an admin lift it', async () => {
      // As the reaper's scan does (tested in test/engine/node-quarantine.test.ts), without waiting for
      // a failure rate to build up.
      await inTransaction(e2e.server.engine.ctx, (tx) =>
        markQuarantined(tx, spare, '5 of its last 6 tasks failed', Date.now()),
      );
      await signIn(admin);
      await row(spare).locator('.badge[data-state="QUARANTINED"]').waitFor();
      assert.match(
        (await row(spare).locator('.quarantine-reason').textContent()) ?? '',
        /^5 of its last 6 tasks failed \(.+ ago\)$/,
      );
      await row(spare).getByRole('button', { name: 'Lift quarantine' }).click();
      await page.getByText('Lifted the quarantine of spare-01.').waitFor();
      const lifted = (await call(admin, 'GET', `/nodes/${spare}`)).body;
      assert.equal(lifted.enabled, true);
      assert.equal(lifted.quarantine, null);
      await row(spare).getByRole('button', { name: 'Disable' }).waitFor();
      assert.equal(await row(spare).locator('.quarantine-reason').count(), 0);
      assert.deepEqual(browser.problems, []);
    });
  });
}
