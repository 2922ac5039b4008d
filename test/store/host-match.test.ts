import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import {
  checkCapabilities,
  meetsRequirement,
  type HostCapabilities,
  type HostRequirement,
} from '../../src/domain/host-capabilities.js';
import { TEST_DATABASES, startTestEngine, type TestEngine } from '../helpers/databases.js';

/*
 * The host requirement rules (migration 0045), one table, checked three ways: the domain
 * function (waiting reasons, UFDL's named claim), and `drover_host_match` as the claim runs
 * it on each database (SQLite's user function, PostgreSQL's SQL function), so that the
 * three never disagree.
 */

const NODE = { cpus: 8, mem: 16384, gpus: 1, disk: 200 * 1024 };
const LINUX: HostCapabilities = {
  attributes: {
    'attr.worker.os.family': ['linux'],
    'attr.worker.cpu.arch': ['x86_64'],
    'attr.site': ['render', 'gpu'],
  },
  amounts: { 'amount.worker.gpu.memory': 8192 },
};

const attr = (a: HostRequirement['attributes'][number]): HostRequirement => ({
  attributes: [a],
  amounts: [],
});
const amount = (m: HostRequirement['amounts'][number]): HostRequirement => ({
  attributes: [],
  amounts: [m],
});

const CASES: [string, HostRequirement, HostCapabilities | null, boolean][] = [
  [
    'anyOf: one value matches',
    attr({ name: 'attr.worker.os.family', anyOf: ['windows', 'linux'] }),
    LINUX,
    true,
  ],
  [
    'anyOf: no value matches',
    attr({ name: 'attr.worker.os.family', anyOf: ['windows'] }),
    LINUX,
    false,
  ],
  ['allOf: every value held', attr({ name: 'attr.site', allOf: ['gpu', 'render'] }), LINUX, true],
  ['allOf: one value missing', attr({ name: 'attr.site', allOf: ['gpu', 'sim'] }), LINUX, false],
  ['a missing attribute never matches', attr({ name: 'attr.rack', anyOf: ['a'] }), LINUX, false],
  [
    'a node that reported nothing',
    attr({ name: 'attr.worker.os.family', anyOf: ['linux'] }),
    null,
    false,
  ],
  ['vcpu within min and max', amount({ name: 'amount.worker.vcpu', min: 4, max: 8 }), LINUX, true],
  ['vcpu above max', amount({ name: 'amount.worker.vcpu', max: 4 }), LINUX, false],
  ['memory below min', amount({ name: 'amount.worker.memory', min: 32768 }), LINUX, false],
  ['gpu max', amount({ name: 'amount.worker.gpu', max: 1 }), LINUX, true],
  [
    'scratch disk in GiB',
    amount({ name: 'amount.worker.disk.scratch', min: 200, max: 200 }),
    LINUX,
    true,
  ],
  [
    'scratch disk above max',
    amount({ name: 'amount.worker.disk.scratch', max: 100 }),
    LINUX,
    false,
  ],
  ['custom amount meets min', amount({ name: 'amount.worker.gpu.memory', min: 8192 }), LINUX, true],
  [
    'custom amount below min',
    amount({ name: 'amount.worker.gpu.memory', min: 16000 }),
    LINUX,
    false,
  ],
  [
    'a missing custom amount counts as 0: min',
    amount({ name: 'amount.worker.tokens', min: 1 }),
    LINUX,
    false,
  ],
  [
    'a missing custom amount counts as 0: max',
    amount({ name: 'amount.worker.tokens', max: 2 }),
    null,
    true,
  ],
  [
    'all of several must hold',
    {
      attributes: [
        { name: 'attr.worker.os.family', anyOf: ['linux'] },
        { name: 'attr.worker.cpu.arch', anyOf: ['arm64'] },
      ],
      amounts: [],
    },
    LINUX,
    false,
  ],
];

describe('host requirements: the rule', () => {
  for (const [name, req, caps, expected] of CASES) {
    it(name, () => assert.equal(meetsRequirement(req, caps, NODE), expected));
  }

  it('checks what a node reports: names, values and bounds', () => {
    assert.deepEqual(
      checkCapabilities({ attributes: { 'Attr.Site': ['Render'] }, amounts: {} }).attributes,
      { 'attr.site': ['render'] },
    );
    const refused: [unknown, RegExp][] = [
      [{ attributes: { site: ['a'] } }, /"site" is not a capability name/],
      [{ attributes: { 'attr.worker.os.family': ['beos'] } }, /not one of windows, linux, macos/],
      [{ attributes: { 'attr.x': [] } }, /1 to 32 string values/],
      [
        { attributes: { 'attr.x': ['v'.repeat(101)] } },
        /attr.x"\]\[0\] must be a string of 1 to 100/,
      ],
      [{ amounts: { 'amount.worker.x': -1 } }, /finite number >= 0/],
      [{ amounts: { 'amount.worker.vcpu': 4 } }, /as its cpus, mem, gpus or disk/],
      [{ amounts: { 'amount.nuke': 4 } }, /amount.worker.NAME/],
      [
        {
          attributes: Object.fromEntries(
            Array.from({ length: 65 }, (_, i) => [`attr.a${i}`, ['x']]),
          ),
        },
        /at most 64/,
      ],
    ];
    for (const [raw, message] of refused) {
      assert.throws(() => checkCapabilities(raw), message, JSON.stringify(raw).slice(0, 60));
    }
  });
});

for (const database of TEST_DATABASES) {
  describe(`host requirements: drover_host_match (${database.name})`, () => {
    let t: TestEngine;
    before(async () => {
      t = await startTestEngine(database);
    });
    after(async () => {
      await t?.close();
    });

    it('answers as the rule does for every case of the table', async () => {
      for (const [name, req, caps, expected] of CASES) {
        const { rows } = await sql<{ m: unknown }>`select drover_host_match(
            ${JSON.stringify(req)}, ${caps ? JSON.stringify(caps) : null},
            ${NODE.cpus}, ${NODE.mem}, ${NODE.gpus}, ${NODE.disk}) as m`.execute(t.engine.ctx.db);
        assert.equal(Boolean(rows[0]!.m), expected, name);
      }
    });
  });
}
