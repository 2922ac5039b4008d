/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun } from './support.js';

const database = TEST_DATABASES[0]!;

describe('drover submit', () => {
  let t: TestServer;
  let dir: string;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
    dir = mkdtempSync(join(tmpdir(), 'drover-cli-submit-'));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lastId = async (): Promise<number> =>
    (await api(t, 'GET', '/jobs?limit=1')).items[0].id as number;

  it('submits a command line and prints the new id', async () => {
    const run = await drover(t, ['submit', '--', 'echo', 'hello', '-n', '{start}']);
    const id = await lastId();
    expectRun(run, 0, `${id}\n`);
    const job = await api(t, 'GET', `/jobs/${id}`);
    assert.equal(job.type.name, 'command-line');
    assert.equal(job.name, 'echo hello -n {start}');
    assert.deepEqual(job.parameters, { executable: 'echo', arguments: ['hello', '-n', '{start}'] });
    assert.equal(job.state, 'QUEUED');
    assert.equal(job.user, 'local');
  });

  it('maps every option onto the submit body', async () => {
    const dep = (
      await api(t, 'POST', '/jobs', { type: 'command-line', parameters: { executable: 'true' } })
    ).id;
    const run = await drover(t, [
      'submit',
      '--frames', '1-10',
      '--chunk', '3',
      '--name', 'render shot 5',
      '--priority', '70',
      '--pool', 'gpu',
      '--group', 'fast',
      '--project', 'show-a',
      '--max-tries', '2',
      '--timeout', '600',
      '--depends-on', String(dep),
      '--frame-dependent',
      '--on-dependency-failure', 'wait',
      '--machine-limit', '2',
      '--deny', 'bad-1,bad-2',
      '--suspended',
      '--',
      'render', '-f', '{start}-{end}',
    ]); // prettier-ignore
    const id = await lastId();
    expectRun(run, 0, `${id}\n`);
    const job = await api(t, 'GET', `/jobs/${id}`);
    assert.equal(job.name, 'render shot 5');
    assert.equal(job.frames, '1-10');
    assert.equal(job.chunkSize, 3);
    assert.equal(job.tasks.total, 4);
    assert.equal(job.priority, 70);
    assert.equal(job.pool, 'gpu');
    assert.equal(job.group, 'fast');
    assert.equal(job.project, 'show-a');
    assert.equal(job.maxTries, 2);
    assert.equal(job.taskTimeout, 600);
    assert.deepEqual(job.dependencies, [dep]);
    assert.equal(job.frameDependent, true);
    assert.equal(job.onDependencyFailure, 'WAIT');
    assert.equal(job.machineLimit, 2);
    assert.deepEqual(job.nodeList, { mode: 'DENY', nodes: ['bad-1', 'bad-2'] });
    assert.equal(job.state, 'SUSPENDED');

    const allowed = await drover(t, ['submit', '--allow', 'n1', '--allow', 'n2', '--', 'true']);
    expectRun(allowed, 0, /^\d+\n$/);
    const allowJob = await api(t, 'GET', `/jobs/${allowed.stdout.trim()}`);
    assert.deepEqual(allowJob.nodeList, { mode: 'ALLOW', nodes: ['n1', 'n2'] });
  });

  it('prints the job as JSON with --json', async () => {
    const run = await drover(t, ['submit', '--json', '--priority', '10', '--', 'true']);
    expectRun(run, 0);
    const job = JSON.parse(run.stdout);
    assert.equal(job.id, await lastId());
    assert.equal(job.priority, 10);
    assert.equal(job.state, 'QUEUED');
    assert.deepEqual(job.parameters, { executable: 'true' });
  });

  it('submits a JSON job file', async () => {
    const file = join(dir, 'job.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'command-line',
        name: 'from json',
        frames: '1-4',
        chunkSize: 2,
        parameters: { executable: 'echo', arguments: ['{frames}'] },
      }),
    );
    const run = await drover(t, ['submit', '--file', file]);
    const id = await lastId();
    expectRun(run, 0, `${id}\n`);
    const job = await api(t, 'GET', `/jobs/${id}`);
    assert.equal(job.name, 'from json');
    assert.equal(job.tasks.total, 2);
  });

  it('submits every job of a YAML list, flags overriding the file', async () => {
    const file = join(dir, 'jobs.yaml');
    writeFileSync(
      file,
      [
        '- type: command-line',
        '  name: yaml one',
        '  parameters: { executable: echo, arguments: [one] }',
        '- type: shell-script',
        '  name: yaml two',
        '  user: alice',
        '  parameters:',
        '    script: echo two',
        '',
      ].join('\n'),
    );
    const run = await drover(t, ['submit', '--file', file, '--pool', 'yaml-pool']);
    const second = await lastId();
    expectRun(run, 0, `${second - 1}\n${second}\n`);
    const one = await api(t, 'GET', `/jobs/${second - 1}`);
    const two = await api(t, 'GET', `/jobs/${second}`);
    assert.equal(one.name, 'yaml one');
    assert.deepEqual(one.parameters, { executable: 'echo', arguments: ['one'] });
    assert.equal(two.type.name, 'shell-script');
    assert.equal(two.user, 'alice');
    assert.equal(one.pool, 'yaml-pool');
    assert.equal(two.pool, 'yaml-pool');

    const json = await drover(t, ['submit', '--json', '--file', file]);
    expectRun(json, 0);
    const jobs = JSON.parse(json.stdout);
    assert.ok(Array.isArray(jobs));
    assert.deepEqual(
      jobs.map((j: any) => j.name),
      ['yaml one', 'yaml two'],
    );
  });

  it('submits other job types with --type and --param', async () => {
    const run = await drover(t, [
      'submit',
      '--type', 'shell-script',
      '--param', 'script=echo "a b" && exit 0',
      '--name', 'typed',
    ]); // prettier-ignore
    const id = await lastId();
    expectRun(run, 0, `${id}\n`);
    const job = await api(t, 'GET', `/jobs/${id}`);
    assert.equal(job.type.name, 'shell-script');
    assert.equal(job.name, 'typed');
    assert.deepEqual(job.parameters, { script: 'echo "a b" && exit 0' });

    // name:=json gives JSON values.
    const json = await drover(t, [
      'submit',
      '--type', 'command-line',
      '--param', 'executable=printf',
      '--param', 'arguments:=["%s\\n", "x y"]',
    ]); // prettier-ignore
    expectRun(json, 0, /^\d+\n$/);
    const typed = await api(t, 'GET', `/jobs/${json.stdout.trim()}`);
    assert.deepEqual(typed.parameters, { executable: 'printf', arguments: ['%s\n', 'x y'] });
  });

  it('sets what a task past its timeout does, from the flag in any case or a job file', async () => {
    const run = await drover(t, [
      'submit', '--timeout', '600', '--task-timeout-action', 'complete', '--', 'true',
    ]); // prettier-ignore
    expectRun(run, 0, /^\d+\n$/);
    const job = await api(t, 'GET', `/jobs/${run.stdout.trim()}`);
    assert.equal(job.taskTimeout, 600);
    assert.equal(job.taskTimeoutAction, 'COMPLETE');

    const file = join(dir, 'timeout.yaml');
    writeFileSync(
      file,
      [
        '- type: command-line',
        '  taskTimeout: 30',
        '  taskTimeoutAction: notify',
        '  parameters: { executable: "true" }',
        '- type: command-line',
        '  parameters: { executable: "true" }',
        '',
      ].join('\n'),
    );
    const fromFile = await drover(t, ['submit', '--file', file]);
    const second = await lastId();
    expectRun(fromFile, 0, `${second - 1}\n${second}\n`);
    const notify = await api(t, 'GET', `/jobs/${second - 1}`);
    assert.equal(notify.taskTimeout, 30);
    assert.equal(notify.taskTimeoutAction, 'NOTIFY');
    assert.equal((await api(t, 'GET', `/jobs/${second}`)).taskTimeoutAction, 'FAIL');

    // The flag overrides the file, as every flag does.
    const overridden = await drover(t, ['submit', '--file', file, '--task-timeout-action', 'FAIL']);
    const last = await lastId();
    expectRun(overridden, 0, `${last - 1}\n${last}\n`);
    assert.equal((await api(t, 'GET', `/jobs/${last - 1}`)).taskTimeoutAction, 'FAIL');

    // The help keeps the action beside the timeout it is about.
    const help = await drover(t, ['submit', '--help']);
    expectRun(
      help,
      0,
      /^ +--timeout <seconds> +task timeout.*\n +--task-timeout-action <action> +what a task past --timeout does: FAIL[\s\S]*?COMPLETE[\s\S]*?NOTIFY/m,
    );
  });

  it('refuses an unknown task timeout action with the choices, exiting 1', async () => {
    const before = await lastId();
    expectRun(
      await drover(t, ['submit', '--task-timeout-action', 'retry', '--', 'true']),
      1,
      '',
      /error: option '--task-timeout-action <action>' argument 'retry' is invalid\. --task-timeout-action must be FAIL \(kill the task, fail the try\), COMPLETE \(kill it, complete the task\) or NOTIFY \(flag it, let it run\), not "retry"/,
    );
    const file = join(dir, 'bad-action.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'command-line',
        parameters: { executable: 'true' },
        taskTimeoutAction: 'KILL',
      }),
    );
    expectRun(
      await drover(t, ['submit', '--file', file]),
      1,
      '',
      `drover: ${file}: taskTimeoutAction must be FAIL (kill the task, fail the try), COMPLETE (kill it, complete the task) or NOTIFY (flag it, let it run), not "KILL"\n`,
    );
    assert.equal(await lastId(), before, 'nothing was submitted');
  });

  it('says what is wrong with a submission, exiting 1', async () => {
    expectRun(
      await drover(t, ['submit']),
      1,
      '',
      'drover: nothing to submit: give a command (drover submit -- echo hello), --file job.yaml, or --type NAME --param k=v\n',
    );
    const missing = join(dir, 'nope.yaml');
    expectRun(
      await drover(t, ['submit', '--file', missing]),
      1,
      '',
      `drover: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"type": ');
    expectRun(
      await drover(t, ['submit', '--file', bad]),
      1,
      '',
      /^drover: .*bad\.json is not valid JSON or YAML: /,
    );
    expectRun(
      await drover(t, ['submit', '--param', 'novalue']),
      1,
      '',
      'drover: --param "novalue" must look like name=value or name:=json\n',
    );
    expectRun(
      await drover(t, ['submit', '--chunk', 'x', '--', 'true']),
      1,
      '',
      /error: option '--chunk <n>' argument 'x' is invalid\. --chunk must be a whole number of at least 1, not "x"/,
    );
    // The server's message for a job type it does not know.
    const res = await t.request('POST', '/api/v1/jobs', { type: 'no-such-type' });
    const run = await drover(t, ['submit', '--type', 'no-such-type']);
    expectRun(run, 1, '', `drover: ${res.body.message}\n`);
  });
});
