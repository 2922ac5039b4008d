import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { startE2eServer, waitFor, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 7: the jobs page stays fast with 100,000 jobs, because the server filters, sorts
 * and pages. The jobs are copies of one submitted job, written straight into SQLite.
 */

const JOBS = 100_000;
const STATES = ['QUEUED', 'RUNNING', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'SUSPENDED'];

/** The columns of a job row but its id, set by seed(). */
let COPIED: string[] = [];

async function seed(e2e: E2eServer): Promise<void> {
  const res = await e2e.api('POST', '/api/v1/jobs', {
    type: 'shell-script',
    name: 'template',
    parameters: { script: 'true' },
  });
  assert.equal(res.status, 201);
  const db = e2e.server.engine.ctx.db;
  const template = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', res.body.id)
    .executeTakeFirstOrThrow();
  const state = `(case i % ${STATES.length} ${STATES.map((s, k) => `when ${k} then '${s}'`).join(' ')} end)`;
  const override: Record<string, string> = {
    name: `'bulk job ' || i`,
    user_name: `'user' || (i % 20)`,
    pool: `(case i % 3 when 0 then 'render' when 1 then 'comp' else '' end)`,
    state,
    tasks_queued: `(case when ${state} = 'QUEUED' then 1 else 0 end)`,
    tasks_completed: `(case when ${state} = 'COMPLETED' then 1 else 0 end)`,
    created_at: `(${template.created_at} - i * 1000)`,
  };
  const columns = Object.keys(template).filter((c) => c !== 'id');
  COPIED = columns;
  const values = columns.map((c) => override[c] ?? `t.${c}`);
  await sql
    .raw(
      `with recursive s(i) as (select 1 union all select i + 1 from s where i < ${JOBS - 1})
       insert into jobs (${columns.join(', ')})
       select ${values.join(', ')} from s cross join (select * from jobs where id = ${template.id}) t`,
    )
    .execute(db);
}

describe('web UI: jobs page with 100,000 jobs', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ensureUiBuilt();
    e2e = await startE2eServer();
    await seed(e2e);
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await e2e?.close();
  });

  const pagerText = () => page.locator('.pager > span').first().textContent();
  const timedUntil = async (what: string, check: () => Promise<boolean>) => {
    const t0 = Date.now();
    await waitFor(what, 10_000, async () => check());
    return Date.now() - t0;
  };

  it('shows the first page, filters and pages without loading every job', async () => {
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/jobs?')) requests.push(r.url());
    });
    await page.goto(`${e2e.url}/#/jobs`);
    const first = await timedUntil('the first page', async () =>
      ((await pagerText()) ?? '').includes('of 100,000'),
    );
    assert.equal(await page.locator('tbody tr[data-job]').count(), 50);
    assert.ok(
      requests.every((u) => /limit=50/.test(u)),
      requests.join('\n'),
    );

    await page.getByRole('button', { name: 'failed', exact: true }).click();
    const filtered = await timedUntil('failed jobs', async () =>
      ((await pagerText()) ?? '').includes('of 14,285'),
    );
    await page.getByLabel('Search job names').fill('bulk job 9999');
    await timedUntil('failed jobs named like 9999', async () =>
      /^1–\d+ of \d+$/.test((await pagerText()) ?? ''),
    );
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Last page').click();
    const last = await timedUntil('the last page', async () =>
      ((await pagerText()) ?? '').startsWith('99,951–100,000'),
    );
    console.log(`100k jobs: first page ${first} ms, filter ${filtered} ms, last page ${last} ms`);
    assert.deepEqual(browser.problems, []);
  });

  it('counts all jobs exactly; past the exact-count limit of a search, says "about", offers no last page, and still pages on', async () => {
    // Two more copies of a bulk job: 100,002 jobs, 100,001 of them named "bulk job …".
    const db = e2e.server.engine.ctx.db;
    await sql`insert into jobs (${sql.raw(COPIED.join(', '))})
      select ${sql.raw(COPIED.join(', '))} from jobs, (select 1 union all select 2) two
      where id = (select max(id) from jobs)`.execute(db);
    await page.goto(`${e2e.url}/#/jobs`);
    await page.reload();
    // With no filter the total comes from the job tallies: exact at any size.
    await waitFor('the exact total', 10_000, async () =>
      ((await pagerText()) ?? '').includes('of 100,002'),
    );
    assert.equal(await page.getByLabel('Last page').isDisabled(), false);
    // A search is counted, capped at 100,000 on SQLite.
    await page.getByLabel('Search job names').fill('bulk job');
    await waitFor('an estimated total', 10_000, async () =>
      ((await pagerText()) ?? '').includes('of about 100,001'),
    );
    assert.equal(await page.getByLabel('Last page').isDisabled(), true);
    await page.getByLabel('Next page').click();
    await waitFor('the second page', 10_000, async () =>
      ((await pagerText()) ?? '').startsWith('51–100 of about'),
    );
    assert.deepEqual(browser.problems, []);
  });
});
