import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startE2eServer, waitFor, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 7: the jobs page in a real Chromium — seeded jobs load, filters narrow them on the
 * server, bulk actions act, rows follow changes made elsewhere, and a job page suspends
 * and resumes its job. No worker: every job stays where the test puts it.
 */

const SEED = [
  { name: 'comp shot_010 v3', user: 'alice', pool: 'nuke' },
  { name: 'comp shot_020 v1', user: 'alice', pool: 'nuke' },
  { name: 'lighting seq_a', user: 'bob', pool: 'arnold', initialState: 'SUSPENDED' },
  { name: 'lighting seq_b', user: 'bob', pool: 'arnold' },
  { name: 'fx sim ocean', user: 'carol', pool: 'houdini', initialState: 'PENDING' },
  { name: 'fx sim smoke', user: 'carol', pool: 'houdini' },
  { name: 'lookdev turntable', user: 'dave', pool: 'arnold', initialState: 'SUSPENDED' },
  { name: 'editorial export', user: 'erin', pool: '' },
];

describe('web UI: jobs page', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let browser: Browser;
  let page: Page;
  const ids = new Map<string, number>();

  const rows = () => page.locator('tbody tr[data-job]');
  const stateOf = (id: number) =>
    page.locator(`tr[data-job="${id}"] .badge`).getAttribute('data-state');
  const waitRows = (what: string, count: number) =>
    waitFor(
      `${what}: ${count} rows`,
      10_000,
      async () => (await rows().count()) === count,
      () => browser.problems.join('\n'),
    );

  before(async () => {
    ensureUiBuilt();
    e2e = await startE2eServer();
    for (const [i, job] of SEED.entries()) {
      const res = await e2e.api('POST', '/api/v1/jobs', {
        type: 'shell-script',
        parameters: { script: 'echo hi' },
        frames: `1-${(i + 1) * 4}`,
        chunkSize: 2,
        priority: 40 + i,
        ...job,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.set(job.name, res.body.id);
    }
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await e2e?.close();
  });

  it('lists the seeded jobs, newest first, with their states and task counts', async () => {
    await page.goto(`${e2e.url}/#/jobs`);
    await waitRows('all jobs', SEED.length);
    const first = await rows().first().getAttribute('data-job');
    assert.equal(Number(first), ids.get('editorial export'));
    assert.equal(await stateOf(ids.get('lighting seq_a')!), 'SUSPENDED');
    assert.equal(await stateOf(ids.get('fx sim ocean')!), 'PENDING');
    const progress = await page
      .locator(`tr[data-job="${ids.get('comp shot_020 v1')}"] .progress-label`)
      .textContent();
    assert.equal(progress, '0/4');
  });

  it('filters by state, text, user and pool on the server', async () => {
    await page.getByRole('button', { name: 'suspended', exact: true }).click();
    await waitRows('suspended', 2);
    assert.match(page.url(), /state=SUSPENDED/);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitRows('cleared', SEED.length);

    await page.getByLabel('Search job names').fill('LIGHTING');
    await waitRows('text "lighting"', 2);
    await page.getByLabel('User').fill('bob');
    await waitRows('lighting by bob', 2);
    await page.getByLabel('Search job names').fill('');
    await page.getByLabel('User').fill('');
    await page.getByLabel('Pool').fill('houdini');
    await waitRows('pool houdini', 2);
    await page.getByLabel('Pool').fill('');
    await waitRows('cleared again', SEED.length);

    // A time range that ended before anything was submitted matches nothing.
    await page.getByLabel('To').fill('2001-01-01T00:00');
    await waitRows('before 2001', 0);
    await page.getByText('No jobs match these filters').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitRows('cleared after time range', SEED.length);
  });

  it('sorts on the server when a column header is clicked', async () => {
    await page.getByRole('button', { name: /^Priority/ }).click();
    await waitFor(
      'sorted by priority',
      10_000,
      async () =>
        Number(await rows().first().getAttribute('data-job')) === ids.get('editorial export'),
    );
    await page.getByRole('button', { name: /^Priority/ }).click();
    await waitFor(
      'sorted by priority ascending',
      10_000,
      async () =>
        Number(await rows().first().getAttribute('data-job')) === ids.get('comp shot_010 v3'),
    );
  });

  it('suspends, then resumes, many jobs at once', async () => {
    const a = ids.get('comp shot_010 v3')!;
    const b = ids.get('comp shot_020 v1')!;
    await page.getByLabel(`Select job ${a}`).check();
    await page.getByLabel(`Select job ${b}`).check();
    await page.getByText('2 selected').waitFor();
    await page.locator('.toolbar').getByRole('button', { name: 'Suspend' }).click();
    await page.getByText('Suspended 2 jobs.').waitFor();
    await waitFor(
      'both suspended',
      10_000,
      async () => (await stateOf(a)) === 'SUSPENDED' && (await stateOf(b)) === 'SUSPENDED',
    );
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${a}`)).body.state, 'SUSPENDED');

    await page.locator('.toolbar').getByRole('button', { name: 'Resume' }).click();
    await waitFor(
      'both queued again',
      10_000,
      async () => (await stateOf(a)) === 'QUEUED' && (await stateOf(b)) === 'QUEUED',
    );

    // Jobs whose state does not allow the action are left alone, and the message says so.
    const pending = ids.get('fx sim ocean')!;
    await page.getByLabel(`Select job ${pending}`).check();
    await page.locator('.toolbar').getByRole('button', { name: 'Release (1)' }).click();
    // The resume's notice may still show: wait for the release's own.
    const released = page.locator('.notice', { hasText: 'Released' });
    await released.waitFor();
    const notice = (await released.textContent()) ?? '';
    assert.match(notice, /Released 1 job\./);
    assert.match(notice, /Left 2 jobs alone: their state does not allow it\./);
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${a}`)).body.state, 'QUEUED');
    await page.getByRole('button', { name: 'clear' }).click();
  });

  it('changes the priority of selected jobs', async () => {
    const id = ids.get('lighting seq_b')!;
    await page.getByLabel(`Select job ${id}`).check();
    await page.getByLabel('New priority').fill('99');
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await page.getByText('Changed the priority of 1 job.').waitFor();
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${id}`)).body.priority, 99);
    await page.getByRole('button', { name: 'clear' }).click();
  });

  it('updates rows from the event stream when a job changes elsewhere', async () => {
    await page.locator('.live.on').waitFor();
    const id = ids.get('lookdev turntable')!;
    assert.equal(await stateOf(id), 'SUSPENDED');
    await e2e.api('POST', `/api/v1/jobs/${id}/resume`);
    await waitFor(
      'the row to turn queued without a reload',
      10_000,
      async () => (await stateOf(id)) === 'QUEUED',
    );
    const created = await e2e.api('POST', '/api/v1/jobs', {
      type: 'shell-script',
      name: 'arrived live',
      parameters: { script: 'true' },
    });
    await page.locator(`tr[data-job="${created.body.id}"]`).waitFor({ timeout: 10_000 });
  });

  it('deletes and undeletes', async () => {
    const id = ids.get('editorial export')!;
    await page.getByLabel(`Select job ${id}`).check();
    await page.locator('.toolbar').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete 1 job' }).click();
    await page.getByText('Deleted 1 job.').waitFor();
    await page.locator(`tr[data-job="${id}"]`).waitFor({ state: 'detached' });
    await page.getByLabel('Deleted jobs').selectOption('only');
    await waitRows('only deleted', 1);
    await page.getByLabel(`Select job ${id}`).check();
    await page.locator('.toolbar').getByRole('button', { name: 'Undelete' }).click();
    await page.getByText('Restored 1 job.').waitFor();
    await waitRows('no deleted left', 0);
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${id}`)).body.deleted, false);
  });

  it('opens a job and suspends and resumes it from its page', async () => {
    await page.goto(`${e2e.url}/#/jobs`);
    const id = ids.get('lighting seq_b')!;
    await page.locator(`tr[data-job="${id}"] td.name a`).click();
    await page.locator('h1', { hasText: 'lighting seq_b' }).waitFor();
    assert.match(page.url(), new RegExp(`#/jobs/${id}$`));
    const badge = page.locator('.page-head .badge');
    assert.equal(await badge.getAttribute('data-state'), 'QUEUED');
    // No node: the page says why the job does not run.
    await page.getByTestId('waiting-reasons').getByText('no enabled node is online').waitFor();
    await page.locator('.task-grid canvas').waitFor();

    await page.locator('.toolbar').getByRole('button', { name: 'Suspend' }).click();
    await waitFor(
      'suspended',
      10_000,
      async () => (await badge.getAttribute('data-state')) === 'SUSPENDED',
    );
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${id}`)).body.state, 'SUSPENDED');
    await page.locator('.toolbar').getByRole('button', { name: 'Resume' }).click();
    await waitFor(
      'queued',
      10_000,
      async () => (await badge.getAttribute('data-state')) === 'QUEUED',
    );
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${id}`)).body.state, 'QUEUED');
    assert.deepEqual(browser.problems, []);
  });

  it("changes a job's task timeout and what happens past it from its page", async () => {
    const id = ids.get('lighting seq_b')!;
    await page.goto(`${e2e.url}/#/jobs/${id}`);
    await page.locator('h1', { hasText: 'lighting seq_b' }).waitFor();
    const detail = (label: string) =>
      page.locator('.details > div', { has: page.getByText(label, { exact: true }) }).locator('dd');
    assert.equal(await detail('Task timeout').textContent(), 'none');
    assert.equal(await detail('On timeout').textContent(), 'FAIL: kill it, fail the try');

    // The server's refusal shows under the form, and nothing changes.
    const seconds = page.getByLabel('Task timeout in seconds');
    await seconds.fill('-1');
    // The task timeout's own Save: the dependencies' form beside it has one too.
    const save = page.locator('.timeout-form').getByRole('button', { name: 'Save' });
    await save.click();
    const refusal = page.locator('.timeout-form .field-error');
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /taskTimeout must be >= 0/);
    assert.equal((await e2e.api('GET', `/api/v1/jobs/${id}`)).body.taskTimeout, 0);

    await seconds.fill('120');
    await page.getByLabel('On task timeout').selectOption('NOTIFY');
    await save.click();
    await page.getByText('Saved: task timeout 120 s, then NOTIFY.').waitFor();
    await waitFor(
      'the details to show the new action',
      10_000,
      async () => (await detail('On timeout').textContent()) === 'NOTIFY: flag it, let it run',
    );
    assert.equal(await detail('Task timeout').textContent(), '120 s');
    const job = (await e2e.api('GET', `/api/v1/jobs/${id}`)).body;
    assert.equal(job.taskTimeout, 120);
    assert.equal(job.taskTimeoutAction, 'NOTIFY');
    assert.equal(job.state, 'QUEUED', 'changing settings leaves the state alone');

    // A change made elsewhere reaches the form through the event stream.
    await e2e.api('PATCH', `/api/v1/jobs/${id}`, { taskTimeoutAction: 'COMPLETE' });
    await waitFor(
      'the form to follow the change',
      10_000,
      async () => (await page.getByLabel('On task timeout').inputValue()) === 'COMPLETE',
    );
    assert.deepEqual(browser.problems, []);
  });
  it("shows a job's schedule and when it next starts", async () => {
    const id = ids.get('editorial export')!;
    const patched = await e2e.api('PATCH', `/api/v1/jobs/${id}`, {
      schedule: {
        kind: 'daily',
        startDate: '2099-01-01',
        startTime: '22:00',
        stopTime: '06:00',
        everyDays: 2,
      },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await page.goto(`${e2e.url}/#/jobs/${id}`);
    await page.locator('h1', { hasText: 'editorial export' }).waitFor();
    const detail = (label: string) =>
      page.locator('.details > div', { has: page.getByText(label, { exact: true }) }).locator('dd');
    assert.equal(
      await detail('Schedule').textContent(),
      'every 2 days from 2099-01-01, 22:00 to 06:00 (server time)',
    );
    assert.match((await detail('Next schedule event').textContent()) ?? '', /2099/);
    // Outside its window, the job waits on the schedule; the page says so.
    assert.equal(await page.locator('.page-head .badge').getAttribute('data-state'), 'PENDING');
    assert.deepEqual(browser.problems, []);
  });
});
