/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import { api, buildOnce, drover, expectRun } from './support.js';

const database = TEST_DATABASES[0]!;

describe('drover nodes and drover types', () => {
  let t: TestServer;
  before(async () => {
    await buildOnce();
    t = await startTestServer(database);
  });
  after(async () => {
    await t?.close();
  });

  it('says when there are no nodes', async () => {
    expectRun(await drover(t, ['nodes']), 0, 'no nodes: start one with `drover worker`\n');
    expectRun(await drover(t, ['nodes', '--json']), 0, '[]\n');
  });

  it('lists nodes and enables and disables them by id or name', async () => {
    await api(t, 'POST', '/nodes', {
      name: 'render-01',
      hostname: 'r1.farm',
      pools: ['gpu', 'cpu'],
      groups: ['a'],
      cpus: 16,
      mem: 65536,
      gpus: 2,
      slots: 2,
      capabilities: {
        attributes: {
          'attr.worker.os.family': ['linux'],
          'attr.worker.cpu.arch': ['x86_64'],
          'attr.site': ['render', 'gpu'],
        },
        amounts: { 'amount.worker.gpu.memory': 24576 },
      },
    });
    await api(t, 'POST', '/nodes', { name: 'render-02', hostname: 'r2.farm', cpus: 4, mem: 8192 });
    const header =
      'ID  NAME       HOSTNAME  STATUS  POOLS    GROUPS  RUNNING  CPUS       MEM  GPUS  OS/ARCH       LAST HEARTBEAT';
    expectRun(
      await drover(t, ['nodes']),
      0,
      [
        header,
        ' 1  render-01  r1.farm   IDLE    gpu,cpu  a           0/2    16  64.0 GiB     2  linux/x86_64  2026-01-01 00:00:00',
        ' 2  render-02  r2.farm   IDLE    -        -           0/1     4   8.0 GiB     0  -/-           2026-01-01 00:00:00',
        '',
      ].join('\n'),
    );
    // One node with every capability its worker reported (OpenJD host requirements).
    expectRun(
      await drover(t, ['nodes', 'show', 'render-01']),
      0,
      /^attr\.site: +render, gpu\namount\.worker\.gpu\.memory: +24576\n/m,
    );
    expectRun(await drover(t, ['nodes', 'disable', 'render-02']), 0, 'node render-02 disabled\n');
    assert.equal((await api(t, 'GET', '/nodes/2')).enabled, false);
    const list = await drover(t, ['nodes']);
    expectRun(list, 0, /^ 2 {2}render-02 {2}r2\.farm {3}DISABLED {2}/m);
    expectRun(await drover(t, ['nodes', 'enable', '2']), 0, 'node render-02 enabled\n');
    assert.equal((await api(t, 'GET', '/nodes/2')).enabled, true);

    const json = await drover(t, ['nodes', '--json']);
    expectRun(json, 0);
    assert.deepEqual(
      JSON.parse(json.stdout).map((n: any) => [n.name, n.pools, n.slots]),
      [
        ['render-01', ['gpu', 'cpu'], 2],
        ['render-02', [], 1],
      ],
    );
    expectRun(
      await drover(t, ['nodes', 'enable', 'nope', '1']),
      1,
      'node render-01 enabled\n',
      'drover: node nope does not exist\n',
    );
    const missing = await t.request('POST', '/api/v1/nodes/77/disable');
    expectRun(
      await drover(t, ['nodes', 'disable', '77']),
      1,
      '',
      `drover: ${missing.body.message}\n`,
    );
  });

  it('lists job types', async () => {
    expectRun(
      await drover(t, ['types']),
      0,
      [
        'NAME          VERSION  TITLE         CATEGORY  REVISION  BUILT-IN',
        'command-line  1        Command line  builtin          1  yes',
        'openjd-job    1        OpenJD job    openjd           1  yes',
        'openjd-step   1        OpenJD step   openjd           1  yes',
        'shell-script  1        Shell script  builtin          1  yes',
        '',
      ].join('\n'),
    );
    const json = await drover(t, ['types', '--json']);
    expectRun(json, 0);
    assert.deepEqual(
      JSON.parse(json.stdout).map((jt: any) => jt.name),
      ['command-line', 'openjd-job', 'openjd-step', 'shell-script'],
    );
  });

  it('shows one job type with its definition', async () => {
    const run = await drover(t, ['types', 'show', 'shell-script']);
    expectRun(run, 0);
    assert.ok(
      run.stdout.startsWith(
        [
          'Job type:     shell-script 1',
          'Title:        Shell script',
          'Description:  Runs a script with /bin/sh. The frames of the task are in DROVER_START, DROVER_END and DROVER_FRAMES.',
          'Category:     builtin',
          'Built-in:     yes',
          'Revision:     1',
        ].join('\n'),
      ),
      run.stdout,
    );
    assert.ok(
      run.stdout.includes(
        '\nDefinition\n  command:\n    - /bin/sh\n    - -c\n    - "{param.script}"\n',
      ),
      run.stdout,
    );
    const type = await api(t, 'POST', '/job-types', {
      name: 'retired',
      definition: { command: ['true'] },
    });
    await api(t, 'PATCH', `/job-types/${type.id}`, { active: false });
    const retired = await drover(t, ['types', 'show', 'retired']);
    expectRun(retired, 0);
    assert.ok(
      retired.stdout.includes(
        `\nInactive:  yes: takes no new jobs until PATCH /api/v1/job-types/${type.id} {"active": true}\n`,
      ),
      retired.stdout,
    );
    const json = await drover(t, ['types', 'show', 'command-line', '--json']);
    expectRun(json, 0);
    assert.equal(JSON.parse(json.stdout).name, 'command-line');
    expectRun(
      await drover(t, ['types', 'show', 'nope']),
      1,
      '',
      'drover: job type nope does not exist; `drover types` lists them\n',
    );
  });
});
