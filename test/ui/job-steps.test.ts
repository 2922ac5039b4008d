import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import YAML from 'yaml';
import { startE2eServer, waitFor, type E2eServer } from '../worker/support.js';
import { ensureUiBuilt, openBrowser, screenshot, type Browser } from './support.js';

/*
 * Issue 15, point 6: a multi-step (OpenJD) job's page shows its steps as a graph with each
 * step's progress and the selected step's tasks as a grid; the "Submit a template" page
 * makes a form from the template's parameter definitions and their userInterface; its
 * Sessions card lists the sessions a node reported (docs/openjd.md#session-records). No
 * worker: tasks are completed by hand, so every count stays where the test puts it.
 */

const TEMPLATE = `specificationVersion: jobtemplate-2023-09
name: 'Comp {{Param.Shot}}'
parameterDefinitions:
  - name: Shot
    type: STRING
    default: sh010
    allowedValues: [sh010, sh020, sh030]
    description: The shot to comp.
    userInterface: { control: DROPDOWN_LIST, label: Shot name, groupLabel: Shot settings }
  - name: LastFrame
    type: INT
    default: 4
    minValue: 1
    maxValue: 100
    userInterface: { control: SPIN_BOX, label: Last frame, groupLabel: Shot settings }
  - name: Quality
    type: FLOAT
    default: 0.5
    minValue: 0
    maxValue: 1
    userInterface: { control: SPIN_BOX, label: Quality, singleStepDelta: 0.1 }
  - name: OutputDir
    type: PATH
    objectType: DIRECTORY
    dataFlow: OUT
    default: /tmp/comp
    userInterface: { control: CHOOSE_DIRECTORY, label: Output directory }
  - name: Draft
    type: STRING
    default: 'false'
    allowedValues: ['true', 'false']
    userInterface: { control: CHECK_BOX, label: Draft }
steps:
  - name: Render
    parameterSpace:
      taskParameterDefinitions:
        - name: Frame
          type: INT
          range: '1-{{Param.LastFrame}}'
    script:
      actions:
        onRun: { command: echo, args: ['{{Task.Param.Frame}}', '{{Param.Quality}}'] }
  - name: Encode
    dependencies:
      - dependsOn: Render
    script:
      actions:
        onRun: { command: echo, args: ['{{Param.OutputDir}}', '{{Param.Draft}}'] }
`;

interface JobBody {
  id: number;
  name: string;
  childName?: string;
  state: string;
  tasks: { total: number; completed: number };
  parameters: { openjd?: { symbols?: Record<string, string> } };
}

describe('web UI: multi-step jobs and the template form', { timeout: 120_000 }, () => {
  let e2e: E2eServer;
  let browser: Browser;
  let page: Page;

  const steps = async (parentId: number) => {
    const res = await e2e.api('GET', `/api/v1/jobs?parent=${parentId}&sort=id`);
    assert.equal(res.status, 200);
    const items = (res.body as { items: JobBody[] }).items;
    return new Map(items.map((j) => [j.childName!, j]));
  };
  const box = (step: string) => page.locator(`.step-box[data-step="${step}"]`);
  const xOf = async (step: string) =>
    Number((await box(step).getAttribute('transform'))?.match(/translate\((\d+)/)?.[1]);

  before(async () => {
    ensureUiBuilt();
    e2e = await startE2eServer();
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await e2e?.close();
  });

  it("shows a two-step job's steps, their progress and the selected step's tasks", async () => {
    const res = await e2e.api('POST', '/api/v1/jobs', {
      template: TEMPLATE,
      parameters: { LastFrame: 3 },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const parent = res.body as JobBody;
    const { Render: render, Encode: encode } = Object.fromEntries(await steps(parent.id));
    assert.ok(render && encode);
    const renderTasks = await e2e.api('GET', `/api/v1/jobs/${render.id}/tasks`);
    const taskIds = (renderTasks.body as { items: { id: number }[] }).items.map((t) => t.id);
    assert.equal(taskIds.length, 3);
    for (const id of taskIds.slice(0, 2)) {
      assert.equal((await e2e.api('POST', `/api/v1/tasks/${id}/complete`)).status, 200);
    }

    await page.goto(`${e2e.url}/#/jobs/${parent.id}`);
    await box('Render').waitFor();
    await page.locator('.step-box[data-step="Render"] .step-count', { hasText: '2/3' }).waitFor();
    assert.equal(await box('Render').locator('.step-state').textContent(), 'queued');
    assert.equal(await box('Encode').getAttribute('data-state'), 'PENDING');
    assert.equal(await box('Encode').locator('.step-count').textContent(), '0/1');
    // One arrow, from Render to Encode, which stands to its right.
    assert.equal(await page.locator('.step-edge').count(), 1);
    assert.equal(
      await page.locator('.step-edge').getAttribute('data-edge'),
      `${render.id}-${encode.id}`,
    );
    assert.ok((await xOf('Render')) < (await xOf('Encode')));
    // The parent has no tasks of its own: its progress is its steps' (the server adds
    // them up), and its Details card says so instead of "none (one task)".
    assert.equal(await page.locator('.head-progress .progress-label').textContent(), '2/4');
    const detail = (label: string) =>
      page
        .locator('dl.details > div')
        .filter({ has: page.locator('dt').getByText(label, { exact: true }) })
        .locator('dd');
    assert.match((await detail('Steps').textContent())!, /^0 done, 0 running, 0 failed of 2/);
    // Each step's progress, listed with a link to it.
    const stepLine = (step: string) => detail('Steps').locator(`li[data-step="${step}"]`);
    await stepLine('Render').waitFor();
    assert.equal(await stepLine('Render').textContent(), 'Render 2/3 tasks, queued');
    assert.equal(await stepLine('Encode').textContent(), 'Encode 0/1 tasks, pending');
    assert.equal(await stepLine('Encode').locator('a').getAttribute('href'), `#/jobs/${encode.id}`);
    assert.equal(
      await detail("Steps' tasks").textContent(),
      '2 done, 0 running, 1 queued, 0 failed of 4',
    );
    assert.equal(await page.locator('dl.details dt', { hasText: 'Frames' }).count(), 0);

    // Render is selected first (the first step, none running): its three tasks.
    const grid = page.locator('.step-tasks[data-step="Render"] canvas[aria-label="3 tasks"]');
    await grid.waitFor();
    assert.equal(await box('Render').getAttribute('aria-pressed'), 'true');
    await grid.hover({ position: { x: 5, y: 5 } });
    const status = page.locator('.step-tasks .task-grid-status');
    assert.equal(await status.textContent(), 'Task 0 · Frame=1 · completed · 0 tries');
    await screenshot(page, 'job-steps');

    await box('Encode').click();
    const encodeGrid = page.locator('.step-tasks[data-step="Encode"] canvas[aria-label="1 tasks"]');
    await encodeGrid.waitFor();
    assert.equal(await box('Encode').getAttribute('aria-pressed'), 'true');
    // A task opens on its step's page, as any job's task does.
    await encodeGrid.click({ position: { x: 5, y: 5 } });
    await page.getByTestId('parent-job').getByText(`job #${parent.id}`).waitFor();
    assert.match(page.url(), new RegExp(`#/jobs/${encode.id}\\?task=\\d+$`));

    // Back on the parent, a step's task that completes moves the parent's counts live.
    await page.goto(`${e2e.url}/#/jobs/${parent.id}`);
    await box('Render').waitFor();
    assert.equal((await e2e.api('POST', `/api/v1/tasks/${taskIds[2]}/complete`)).status, 200);
    await page.locator('.head-progress .progress-label', { hasText: '3/4' }).waitFor();
    await detail('Steps').filter({ hasText: '1 done, 0 running, 0 failed of 2' }).waitFor();
    await stepLine('Render').filter({ hasText: 'Render 3/3 tasks, completed' }).waitFor();

    // The jobs table: the parent's bar is its steps' tasks, with its steps done under it.
    await page.goto(`${e2e.url}/#/jobs`);
    const row = page.locator(`tr[data-job="${parent.id}"] td[data-column="progress"]`);
    await row.locator('.progress-steps', { hasText: '1/2 steps' }).waitFor();
    assert.equal(await row.locator('.progress-label').textContent(), '3/4');
    const stepRow = page.locator(`tr[data-job="${render.id}"] td[data-column="progress"]`);
    assert.equal(await stepRow.locator('.progress-label').textContent(), '3/3');
    assert.equal(await stepRow.locator('.progress-steps').count(), 0);
    // Encode, released by Render, starts: the parent's row follows its step's change.
    const [encodeTask] = (
      (await e2e.api('GET', `/api/v1/jobs/${encode.id}/tasks`)).body as { items: { id: number }[] }
    ).items;
    assert.equal((await e2e.api('POST', `/api/v1/tasks/${encodeTask!.id}/complete`)).status, 200);
    await row.locator('.progress-steps', { hasText: '2/2 steps' }).waitFor();
    assert.equal(await row.locator('.progress-label').textContent(), '4/4');
    assert.deepEqual(browser.problems, []);
  });

  it("lists an OpenJD job's sessions and shows a session's log", async () => {
    // A node runs a task of the job and reports its session as a worker does.
    const res = await e2e.api('POST', '/api/v1/jobs', { template: TEMPLATE, pool: 'ui-sessions' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const parent = res.body as JobBody;
    const node = (
      await e2e.api('POST', '/api/v1/nodes', { name: 'ui-node', pools: ['ui-sessions'] })
    ).body as { id: number };
    const claim = await e2e.api('POST', `/api/v1/nodes/${node.id}/claims`, { max: 1, start: true });
    const [order] = (claim.body as { orders: { execution: { id: number } }[] }).orders;
    const open = { nodeId: node.id, jobId: parent.id, clientToken: 'ui-1' };
    const session = (await e2e.api('POST', '/api/v1/sessions', open)).body as { id: number };
    const s = `/api/v1/sessions/${session.id}`;
    const actions = [
      { index: 0, kind: 'envEnter', status: 'SUCCEEDED', environment: 'Farm' },
      { index: 1, kind: 'taskRun', status: 'RUNNING', executionId: order!.execution.id },
    ];
    assert.equal((await e2e.api('POST', `${s}/actions`, { nodeId: node.id, actions })).status, 200);
    const lines = [{ stream: 'stdout', text: 'license checked out' }];
    assert.equal((await e2e.api('POST', `${s}/log`, { nodeId: node.id, lines })).status, 200);

    await page.goto(`${e2e.url}/#/jobs/${parent.id}`);
    const row = page.locator(`[data-section="sessions"] tr[data-session="${session.id}"]`);
    await row.waitFor();
    assert.match((await row.textContent())!, /ui-node/);
    assert.equal(await row.locator('[data-column="state"]').textContent(), 'started');
    assert.equal(await row.locator('[data-column="actions"]').textContent(), '2');
    await row.getByRole('button', { name: 'Log' }).click();
    await page
      .locator(`[data-session-log="${session.id}"] .log-line`, { hasText: 'license checked out' })
      .waitFor();
    assert.deepEqual(browser.problems, []);
  });

  it("makes a form of a template's parameters, refuses a bad value and submits", async () => {
    await page.goto(`${e2e.url}/#/jobs`);
    await page.getByRole('link', { name: 'Submit a template' }).click();
    await page.locator('#field-template').fill(TEMPLATE);
    const control = (name: string) => page.locator(`[data-parameter="${name}"]`);
    await control('Shot').waitFor();

    // One control per parameter, from its type and userInterface, defaults filled in.
    assert.equal(await control('Shot').evaluate((e) => e.tagName), 'SELECT');
    assert.deepEqual(await control('Shot').locator('option').allTextContents(), [
      'sh010',
      'sh020',
      'sh030',
    ]);
    assert.equal(await control('Shot').inputValue(), 'sh010');
    const lastFrame = control('LastFrame');
    assert.equal(await lastFrame.getAttribute('type'), 'number');
    assert.equal(await lastFrame.getAttribute('min'), '1');
    assert.equal(await lastFrame.getAttribute('max'), '100');
    assert.equal(await lastFrame.inputValue(), '4');
    assert.equal(await control('Quality').getAttribute('step'), '0.1');
    assert.equal(await control('Quality').inputValue(), '0.5');
    assert.equal(await control('OutputDir').inputValue(), '/tmp/comp');
    assert.equal(await control('Draft').getAttribute('type'), 'checkbox');
    assert.equal(await control('Draft').isChecked(), false);
    // Labels, groups and help text.
    const group = page.locator('fieldset[data-group="Shot settings"]');
    assert.equal(await group.locator('legend').textContent(), 'Shot settings');
    assert.deepEqual(await group.locator('label').allTextContents(), ['Shot name', 'Last frame']);
    await page
      .locator('[data-field="param-Shot"] .hint', { hasText: 'The shot to comp.' })
      .waitFor();
    assert.equal(
      await page.locator('[data-field="param-OutputDir"] .hint').textContent(),
      'Path to a directory, written by the job on the workers',
    );
    assert.equal(
      await page.locator('[data-field="param-LastFrame"] .hint').textContent(),
      '1 to 100',
    );

    // Out of range: refused in the browser, nothing sent.
    const before = (await e2e.api('GET', '/api/v1/jobs')).body as { total: number };
    await lastFrame.fill('500');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page
      .locator('[data-field="param-LastFrame"] .field-error', {
        hasText: 'Last frame 500 is above maxValue 100',
      })
      .waitFor();
    assert.equal(
      ((await e2e.api('GET', '/api/v1/jobs')).body as { total: number }).total,
      before.total,
    );

    await lastFrame.fill('2');
    await control('Shot').selectOption('sh020');
    await control('Quality').fill('0.75');
    await control('OutputDir').fill('/mnt/comp/sh020');
    await control('Draft').check();
    await screenshot(page, 'submit-template');
    await page.getByRole('button', { name: 'Submit' }).click();
    await waitFor(
      'the new job page',
      10_000,
      async () => /#\/jobs\/\d+$/.test(page.url()),
      () => browser.problems.join('\n'),
    );
    const id = Number(page.url().match(/#\/jobs\/(\d+)$/)![1]);
    await page.getByRole('heading', { name: 'Comp sh020' }).waitFor();
    await page.locator('.step-box[data-step="Render"] .step-count', { hasText: '0/2' }).waitFor();
    const render = (await steps(id)).get('Render')!;
    const full = (await e2e.api('GET', `/api/v1/jobs/${render.id}`)).body as JobBody;
    const symbols = full.parameters.openjd?.symbols ?? {};
    assert.equal(symbols['Param.Shot'], 'sh020');
    assert.equal(symbols['Param.LastFrame'], '2');
    assert.equal(symbols['Param.Quality'], '0.75');
    assert.equal(symbols['RawParam.OutputDir'], '/mnt/comp/sh020');
    assert.equal(symbols['Param.Draft'], 'true');

    // What only the server refuses comes back as it says it.
    await page.goto(`${e2e.url}/#/submit-template`);
    const noSteps = TEMPLATE.replace(/\nsteps:[\s\S]*$/, '\n');
    // Chosen as a file, as JSON this time.
    await page.getByLabel('Template file').setInputFiles({
      name: 'template.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(YAML.parse(noSteps))),
    });
    // The browser reads the chosen file asynchronously: wait for the text to arrive.
    await page.waitForFunction(
      `document.querySelector('#field-template').value.startsWith('{"specificationVersion"')`,
    );
    assert.match(await page.locator('#field-template').inputValue(), /^\{"specificationVersion"/);
    await control('Shot').waitFor();
    await page.getByRole('button', { name: 'Submit' }).click();
    const refused = page.locator('.template-error');
    await refused.waitFor();
    const direct = await e2e.api('POST', '/api/v1/jobs', { template: noSteps });
    assert.equal(direct.status, 400);
    const message = (direct.body as { message: string }).message;
    assert.match(message, /steps/);
    assert.equal(await refused.textContent(), message);
    assert.match(page.url(), /#\/submit-template$/);
    assert.deepEqual(browser.problems, []);
  });
});
