import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/engine/accounts/accounts.js';
import { startE2eServer, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/* Issue 7: with auth on, the UI asks for a token, says when one is refused, and keeps it. */

describe('web UI with auth on', { timeout: 60_000 }, () => {
  let e2e: E2eServer;
  let browser: Browser;
  let token: string;

  before(async () => {
    ensureUiBuilt();
    e2e = await startE2eServer({ auth: true });
    const ctx = e2e.server.engine.ctx;
    await addUser(ctx, 'alice', 'user');
    token = await createToken(ctx, 'alice');
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await e2e?.close();
  });

  it('signs in with a token and shows the pages, which act as that user', async () => {
    const page = browser.page;
    await page.goto(`${e2e.url}/#/jobs`);
    await page.getByRole('heading', { name: 'Sign in to Drover' }).waitFor();
    await page.getByText('This server has authentication on.').waitFor();

    await page.getByLabel('API token').fill('drv_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The server does not know this token.').waitFor();

    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.locator('.live.on').waitFor();

    await page.goto(`${e2e.url}/#/submit`);
    await page.locator('#field-command').fill('echo signed in');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/\d+$/);
    const id = Number(page.url().match(/#\/jobs\/(\d+)$/)![1]);
    const job = await fetch(`${e2e.url}/api/v1/jobs/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json() as Promise<{ user: string }>);
    assert.equal(job.user, 'alice');

    // The token survives a reload; signing out forgets it.
    await page.reload();
    await page.locator('h1', { hasText: 'echo signed in' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Drover' }).waitFor();
    assert.equal(await page.evaluate('localStorage.getItem("drover.token")'), null);
    assert.deepEqual(browser.problems, []);
  });
});
