import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startE2eServer, submitScript, waitFor, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, type Browser } from './support.js';

/*
 * Issue 15 in a real Chromium: the submit forms (a command line, an OpenJD template) set the
 * jobs a job waits on, what it does when one fails (onDependencyFailure) and whether it
 * waits frame by frame (frameDependent, with frame offsets); the job page shows them, and
 * changes the dependencies and the policy. What the form refuses and what the server
 * refuses show beside the field. No worker: the dependencies stay suspended.
 */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: Frames
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - { name: Frame, type: INT, range: '1-3' }
    script:
      actions:
        onRun: { command: echo, args: ['{{Task.Param.Frame}}'] }
  - name: Denoise
    dependencies:
      - dependsOn: Render
    parameterSpace:
      taskParameterDefinitions:
        - { name: Frame, type: INT, range: '1-3' }
    script:
      actions:
        onRun: { command: echo, args: ['{{Task.Param.Frame}}'] }
`;

interface JobBody {
  id: number;
  name: string;
  state: string;
  dependencies?: number[];
  onDependencyFailure: string;
  frameDependent: boolean;
  frameOffsetStart: number;
  frameOffsetEnd: number;
  childName?: string | null;
}

for (const database of TEST_DATABASES) {
  describe(`web UI: dependency settings (${database.name})`, { timeout: 120_000 }, () => {
    let e2e: E2eServer;
    let browser: Browser;
    let page: Page;
    let sim: number;
    let cache: number;

    const job = async (id: number) => (await e2e.api('GET', `/api/v1/jobs/${id}`)).body as JobBody;
    const newJobId = async () => {
      await waitFor(
        'the new job page',
        10_000,
        async () => /#\/jobs\/\d+$/.test(page.url()),
        () => browser.problems.join('\n'),
      );
      return Number(page.url().match(/#\/jobs\/(\d+)$/)![1]);
    };
    const detail = (label: string) =>
      page
        .locator('dl.details > div', { has: page.locator('dt', { hasText: label }) })
        .locator('dd');
    const fieldError = (name: string) => page.locator(`[data-field="${name}"] .field-error`);

    before(async () => {
      ensureUiBuilt();
      e2e = await startE2eServer({}, database);
      browser = await openBrowser();
      page = browser.page;
      sim = await submitScript(e2e, 'true', {
        name: 'fx sim',
        frames: '1-4',
        initialState: 'SUSPENDED',
      });
      cache = await submitScript(e2e, 'true', { name: 'fx cache', initialState: 'SUSPENDED' });
    });

    after(async () => {
      await browser?.close();
      await e2e?.close();
    });

    it('a command-line job: sets, shows and changes its dependency settings', async () => {
      await page.goto(`${e2e.url}/#/submit`);
      await page.locator('#field-command').fill('echo {start}');
      await page.locator('#field-frames').fill('1-4');
      await page.locator('#field-name').fill('comp');
      // The offsets show only for a frame-by-frame job.
      assert.equal(await page.locator('#field-frameOffsetStart').count(), 0);
      await page.locator('#field-dependencies').fill(`${sim}, fx`);
      await page.locator('#field-onDependencyFailure').selectOption('RUN');
      await page.locator('#field-frameDependent').check();
      await page.locator('#field-frameOffsetStart').fill('-1');
      await page.getByRole('button', { name: 'Submit' }).click();
      assert.match((await fieldError('dependencies').textContent()) ?? '', /"fx" is not a job id/);
      // What only the server knows: a job that does not exist.
      await page.locator('#field-dependencies').fill(`${sim}, 999999`);
      await page.getByRole('button', { name: 'Submit' }).click();
      await fieldError('dependencies').waitFor();
      assert.match(
        (await fieldError('dependencies').textContent()) ?? '',
        /dependencies refer to jobs that do not exist: 999999/,
      );
      assert.match(page.url(), /#\/submit$/);
      await page.locator('#field-dependencies').fill(`#${sim}`);
      await page.getByRole('button', { name: 'Submit' }).click();
      const id = await newJobId();
      const made = await job(id);
      assert.deepEqual(made.dependencies, [sim]);
      assert.equal(made.onDependencyFailure, 'RUN');
      assert.equal(made.frameDependent, true);
      assert.equal(made.frameOffsetStart, -1);
      assert.equal(made.frameOffsetEnd, 0);

      await page.locator('h1', { hasText: 'comp' }).waitFor();
      assert.equal(await detail('If a dependency fails').textContent(), 'RUN: run anyway');
      assert.equal(
        await detail('Frame by frame').textContent(),
        'yes: frame N waits for frames N−1 to N of its dependencies',
      );

      // The job page changes them: both at once, only what changed is sent.
      const form = page.getByTestId('dependency-form');
      assert.equal(await form.getByLabel('Depends on (job ids)').inputValue(), String(sim));
      assert.equal(await form.getByLabel('If a dependency fails').inputValue(), 'RUN');
      assert.equal(await form.getByRole('button', { name: 'Save' }).isDisabled(), true);
      await form.getByLabel('Depends on (job ids)').fill(`${sim}, ${cache}`);
      await form.getByLabel('If a dependency fails').selectOption('WAIT');
      await form.getByRole('button', { name: 'Save' }).click();
      await page
        .locator('.notice', { hasText: `Saved: waits for #${sim}, #${cache}; if one fails: WAIT.` })
        .waitFor();
      const changed = await job(id);
      assert.deepEqual(changed.dependencies, [sim, cache]);
      assert.equal(changed.onDependencyFailure, 'WAIT');
      await page
        .locator('dl.details dd', { hasText: 'WAIT: wait until it is retried and completes' })
        .waitFor();

      // A refusal shows beneath the form; nothing changes.
      await form.getByLabel('Depends on (job ids)').fill(String(id));
      await form.getByRole('button', { name: 'Save' }).click();
      await form.locator('.field-error', { hasText: 'cannot depend on itself' }).waitFor();
      assert.deepEqual((await job(id)).dependencies, [sim, cache]);
      assert.deepEqual(browser.problems, []);
    });

    it('an OpenJD template: its steps take the policy and wait frame by frame', async () => {
      await page.goto(`${e2e.url}/#/submit-template`);
      await page.locator('#field-template').fill(TEMPLATE);
      await page.getByTestId('template-parameters').waitFor();
      await page.locator('#field-dependencies').fill(String(sim));
      await page.locator('#field-onDependencyFailure').selectOption('WAIT');
      await page.locator('#field-frameDependent').check();
      await page.getByRole('button', { name: 'Submit' }).click();
      const id = await newJobId();
      const parent = await job(id);
      assert.equal(parent.onDependencyFailure, 'WAIT');
      const steps = (await e2e.api('GET', `/api/v1/jobs?parent=${id}`)).body.items as JobBody[];
      const render = await job(steps.find((s) => s.childName === 'Render')!.id);
      const denoise = await job(steps.find((s) => s.childName === 'Denoise')!.id);
      // The first step waits on the job above, frame by frame; the second on the first.
      assert.deepEqual(render.dependencies, [sim]);
      assert.equal(render.frameDependent, true);
      assert.equal(render.onDependencyFailure, 'WAIT');
      assert.deepEqual(denoise.dependencies, [render.id]);
      assert.equal(denoise.frameDependent, true);
      assert.equal(denoise.onDependencyFailure, 'WAIT');

      await page.locator('h1', { hasText: 'Frames' }).waitFor();
      assert.equal(
        await detail('If a dependency fails').textContent(),
        'WAIT: wait until it is retried and completes',
      );
      // The policy changed on the parent reaches its steps.
      const form = page.getByTestId('dependency-form');
      await form.getByLabel('If a dependency fails').selectOption('CANCEL');
      await form.getByRole('button', { name: 'Save' }).click();
      await page.locator('.notice', { hasText: 'if one fails: CANCEL.' }).waitFor();
      assert.equal((await job(denoise.id)).onDependencyFailure, 'CANCEL');
      assert.deepEqual(browser.problems, []);
    });
  });
}
