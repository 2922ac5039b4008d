import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { grant } from '../../src/engine/accounts/grants.js';
import { freePort, targets } from '../helpers/serve-process.js';
import { startE2eServer, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 11: a job's page shows its audit trail ("suspended by bob via Deadline at 10:42"),
 * and a change made through another face by another user appears without a reload.
 */

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

for (const target of targets) {
  describe(`web UI: a job's history (${target.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let browser: Browser;
    let cleanup: () => Promise<void>;
    let alice: string;
    let dave: string;
    let bob: string;

    before(async () => {
      ensureUiBuilt();
      const set = await target.setUp();
      cleanup = set.cleanup;
      e2e = await startE2eServer({
        auth: true,
        deadlinePort: await freePort(),
        ...(set.db ? { db: set.db } : {}),
      });
      const ctx = e2e.server.engine.ctx;
      await addUser(ctx, 'alice', 'user');
      await addUser(ctx, 'bob', 'user', 'bob-pw');
      await addUser(ctx, 'dave', 'user');
      await grant(ctx, 'bob', { wrangler: true }, 'root');
      alice = await createToken(ctx, 'alice');
      dave = await createToken(ctx, 'dave');
      bob = await createToken(ctx, 'bob');
      browser = await openBrowser();
    });

    after(async () => {
      await browser?.close();
      await e2e?.close();
      await cleanup?.();
    });

    it('shows who changed the job, how and when, live', async () => {
      const submitted = await fetch(`${e2e.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'command-line',
          name: 'comp shot_010',
          parameters: { executable: 'echo' },
          pool: 'comp',
          protected: true,
        }),
      });
      assert.equal(submitted.status, 201);
      const { id } = (await submitted.json()) as { id: number };

      const page = browser.page;
      await page.goto(`${e2e.url}/#/jobs`);
      await page.evaluate(`localStorage.setItem('drover.token', ${JSON.stringify(alice)})`);
      await page.goto(`${e2e.url}/#/jobs/${id}`);
      // The app reads the token as it starts; a change of hash alone does not restart it.
      await page.reload();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await page.getByText('Nobody has changed this job yet.').waitFor();
      await page.getByText('only alice or an admin may delete or archive it').waitFor();
      await page.locator('.live.on').waitFor();

      // Bob, a wrangler, suspends it through the Deadline face, as Deadline's client does.
      const dl = await fetch(`${e2e.server.deadlineUrl}/api/jobs`, {
        method: 'PUT',
        headers: {
          authorization: basic('bob', 'bob-pw'),
          'content-type': 'application/json; charset=utf-8',
        },
        body: JSON.stringify({ Command: 'suspend', JobID: id.toString(16).padStart(24, '0') }),
      });
      assert.equal(dl.status, 200, await dl.text());
      const history = page.getByTestId('job-history');
      await history
        .getByText(/^suspended by bob via Deadline at \d\d:\d\d$/)
        .waitFor({ timeout: 10_000 });

      // Dave may not: the refusal is on the page too, newest first.
      const refused = await fetch(`${e2e.url}/api/v1/jobs/${id}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dave}` },
      });
      assert.equal(refused.status, 403);
      await history
        .getByText(/^dave tried to cancel it via the native API: refused \(403\) at \d\d:\d\d$/)
        .waitFor({ timeout: 10_000 });
      // Bob cancels it with Scale's bulk command (filters: the ids and the state Scale calls a
      // suspended job, BLOCKED); Scale answers 202 before it runs.
      const bulk = await fetch(`${e2e.url}/v6/jobs/cancel/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
        body: JSON.stringify({ job_ids: [id], status: 'BLOCKED' }),
      });
      assert.equal(bulk.status, 202);
      await history
        .getByText(/^canceled by bob via Scale at \d\d:\d\d$/)
        .waitFor({ timeout: 10_000 });
      const lines = await history.locator('li').allInnerTexts();
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, /^canceled by bob via Scale/);
      assert.match(lines[1]!, /^dave tried to cancel/);
      assert.match(lines[2]!, /^suspended by bob via Deadline/);
      assert.deepEqual(browser.problems, []);
    });
  });
}
