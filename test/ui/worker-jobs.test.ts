import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ensureBuilt,
  executionsOf,
  jobState,
  startE2eServer,
  startWorker,
  submitScript,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';
import { ensureUiBuilt, openBrowser, screenshot, type Browser } from './support.js';

/*
 * Issue 7 with real `drover worker` processes: a running task's log grows on the job page
 * without a reload, a job submitted through the form runs to completion, and the
 * screenshots in docs/screenshots/ are taken of this farm.
 */

const RENDER =
  'echo "Rendering frames $DROVER_START-$DROVER_END of shot_040"; ' +
  'for i in 1 2 3 4 5 6; do echo "PROGRESS: $((i*100/6))"; ' +
  'echo "frame $DROVER_START: sampling pass $i/6, 512 spp"; sleep 0.4; done; ' +
  'echo beauty > $DROVER_OUTPUT_DIR/shot_040.$DROVER_START.exr; echo "wrote shot_040.$DROVER_START.exr"';

describe('web UI with real workers', { timeout: 180_000 }, () => {
  let e2e: E2eServer;
  let workers: WorkerProcess[] = [];
  let browser: Browser;
  let page: Page;
  let render: number;

  const explain = () => [...browser.problems, ...workers.map((w) => w.output())].join('\n');
  const waitState = (id: number, state: string, ms = 60_000) =>
    waitFor(
      `job ${id} ${state}`,
      ms,
      async () => (await jobState(e2e, id)).state === state,
      explain,
    );

  before(async () => {
    ensureBuilt();
    ensureUiBuilt();
    e2e = await startE2eServer();
    workers = ['render-01', 'render-02'].map((name) =>
      startWorker(e2e.url, name, join(e2e.dataDir, name)),
    );
    browser = await openBrowser();
    page = browser.page;

    // A farm with some history: jobs that completed, failed, wait and were canceled.
    const done1 = await submitScript(e2e, 'echo comp', { name: 'comp shot_010 v3', user: 'alice' });
    const done2 = await submitScript(e2e, 'echo comp $DROVER_START', {
      name: 'comp shot_020 v2',
      user: 'alice',
      frames: '1-10',
      chunkSize: 5,
    });
    const failed = await submitScript(e2e, 'echo simulating; echo "out of memory" >&2; exit 3', {
      name: 'fx sim ocean',
      user: 'carol',
      maxTries: 1,
    });
    await waitState(done1, 'COMPLETED');
    await waitState(done2, 'COMPLETED');
    await waitState(failed, 'FAILED');
    const canceled = await submitScript(e2e, 'true', {
      name: 'cleanup temp',
      user: 'erin',
      pool: 'io',
    });
    await e2e.api('POST', `/api/v1/jobs/${canceled}/cancel`);
    await submitScript(e2e, 'true', {
      name: 'lookdev turntable',
      user: 'dave',
      pool: 'gpu',
      frames: '1-120',
      chunkSize: 10,
    });
    await submitScript(e2e, 'true', {
      name: 'lighting seq_a',
      user: 'bob',
      initialState: 'SUSPENDED',
      frames: '1-50',
      chunkSize: 5,
    });
    render = await submitScript(e2e, RENDER, {
      name: 'render shot_040 beauty',
      user: 'bob',
      frames: '1-48',
      chunkSize: 2,
      priority: 60,
    });
    await submitScript(e2e, 'true', {
      name: 'editorial export shot_040',
      user: 'erin',
      dependencies: [render],
    });
  });

  after(async () => {
    await browser?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await e2e?.close();
  });

  it("follows a running task's log as lines arrive", async () => {
    const log = page.getByTestId('log-lines');
    const lines = () => log.locator('.log-line').count();
    // A task runs ~2.5 s. On a loaded machine the page may open only after it wrote its last
    // line: then no line can arrive, and the next running task is followed instead.
    let seen = 0;
    for (let attempt = 1; ; attempt++) {
      const running = await waitFor(
        'a running execution',
        30_000,
        async () => (await executionsOf(e2e, render)).find((e) => e.state === 'RUNNING'),
        explain,
      );
      await page.goto(`${e2e.url}/#/jobs/${render}`);
      // The same address again changes nothing: a reload closes the log that ended.
      if (attempt > 1) await page.reload();
      await page.locator('h1', { hasText: 'render shot_040 beauty' }).waitFor();
      await page
        .locator(`tr[data-execution="${running.id}"]`)
        .getByRole('button', { name: 'Log' })
        .click();
      await log
        .locator('.log-line.stdout', { hasText: 'Rendering frames' })
        .waitFor({ timeout: 10_000 });
      seen = await lines();
      // Its last stdout line (the command, shown above it, has the same words).
      const ended = await log.locator('.log-line.stdout', { hasText: 'wrote shot_040' }).count();
      if (ended === 0) break;
      assert.ok(attempt < 3, 'every task ended before its log was open');
    }
    await waitFor(
      'more lines without a reload',
      10_000,
      async () => (await lines()) > seen,
      explain,
    );
    await log
      .locator('.log-line.stdout', { hasText: 'wrote shot_040' })
      .waitFor({ timeout: 15_000 });
    assert.match((await log.textContent()) ?? '', /sampling pass 6\/6/);
  });

  it('takes the screenshots of a job page and the jobs page', async () => {
    // Let a few more tasks finish so the grid shows every colour of a busy job.
    await waitFor(
      'six tasks done',
      60_000,
      async () => (await jobState(e2e, render)).tasks.completed >= 6,
      explain,
    );
    await page.goto(`${e2e.url}/#/jobs/${render}`);
    await page.locator('.log-line').first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1500);
    await screenshot(page, 'job');

    await page.goto(`${e2e.url}/#/jobs`);
    await page.locator('tbody tr[data-job]').nth(7).waitFor();
    await page.waitForTimeout(300);
    await screenshot(page, 'jobs');

    await page.goto(`${e2e.url}/#/`);
    await page.locator('.chart').waitFor();
    await screenshot(page, 'overview');

    await page.goto(`${e2e.url}/#/nodes`);
    await page.getByText('render-02').waitFor();
    // Each node's status as the API derives it: these workers are running or between tasks.
    const statuses = await page
      .locator('tr[data-node] .badge')
      .evaluateAll((badges) => badges.map((b) => b.getAttribute('data-state')));
    assert.ok(statuses.length >= 2, `${statuses.length} nodes shown`);
    for (const s of statuses) assert.ok(s === 'BUSY' || s === 'IDLE', `node status ${s}`);
    // What the workers reported with their heartbeats: CPU and memory of this machine.
    const usage = page.locator('tr[data-node] td[data-column="usage"]').first();
    await usage.locator('[data-usage="mem"]').waitFor();
    for (const kind of ['cpu', 'mem']) {
      const figure = usage.locator(`[data-usage="${kind}"] .usage-figure`);
      assert.match((await figure.textContent()) ?? '', /^\d+%$/, kind);
    }
    assert.match(
      (await usage.locator('[data-usage="mem"]').getAttribute('title')) ?? '',
      /^[\d.]+ \w+ \/ [\d.]+ \w+$/,
    );
    await screenshot(page, 'nodes');
  });

  it('submits a job through the form, shows validation, and sees it complete', async () => {
    await page.goto(`${e2e.url}/#/submit`);
    await page.locator('#field-command').fill('echo hello from the form');
    await page.locator('#field-frames').fill('1-4x');
    await page.locator('#field-chunkSize').fill('2');
    await page.locator('#field-priority').fill('90');
    await page.getByRole('button', { name: 'Submit' }).click();
    const framesError = page.locator('[data-field="frames"] .field-error');
    await framesError.waitFor();
    assert.match((await framesError.textContent()) ?? '', /frame/i);
    await screenshot(page, 'submit-validation');

    await page.locator('#field-priority').fill('high');
    await page.locator('#field-frames').fill('1-4');
    await page.getByRole('button', { name: 'Submit' }).click();
    const priorityError = page.locator('[data-field="priority"] .field-error');
    await priorityError.waitFor();
    assert.match((await priorityError.textContent()) ?? '', /integer/);

    // The task timeout is checked by the server too, its message beside the field.
    await page.locator('#field-priority').fill('90');
    await page.locator('#field-taskTimeout').fill('-5');
    await page.getByRole('button', { name: 'Submit' }).click();
    const timeoutError = page.locator('[data-field="taskTimeout"] .field-error');
    await timeoutError.waitFor();
    assert.match((await timeoutError.textContent()) ?? '', /taskTimeout must be >= 0/);

    await page.locator('#field-taskTimeout').fill('600');
    await page.locator('#field-taskTimeoutAction').selectOption('COMPLETE');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/\d+$/);
    const id = Number(page.url().match(/#\/jobs\/(\d+)$/)![1]);
    const job = await jobState(e2e, id);
    assert.equal(job.type.name, 'command-line');
    assert.deepEqual(job.parameters, {
      executable: 'echo',
      arguments: ['hello', 'from', 'the', 'form'],
    });
    assert.equal(job.frames, '1-4');
    assert.equal(job.chunkSize, 2);
    assert.equal(job.priority, 90);
    assert.equal(job.taskTimeout, 600);
    assert.equal(job.taskTimeoutAction, 'COMPLETE');
    const detail = (label: string) =>
      page.locator('.details > div', { has: page.getByText(label, { exact: true }) }).locator('dd');
    assert.equal(await detail('Task timeout').textContent(), '600 s');
    assert.equal(await detail('On timeout').textContent(), 'COMPLETE: kill it, complete the task');

    const badge = page.locator('.page-head .badge');
    await waitFor(
      'the page to show COMPLETED',
      60_000,
      async () => (await badge.getAttribute('data-state')) === 'COMPLETED',
      explain,
    );
    await page.locator('.progress-label', { hasText: '2/2' }).first().waitFor();
    await page.locator('tr[data-execution]').first().getByRole('button', { name: 'Log' }).click();
    await page.getByTestId('log-lines').getByText('hello from the form').waitFor();
    assert.deepEqual(browser.problems, []);
  });
});
