import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildOnce, drover } from './support.js';

/* `drover user grant`, `user grants`, `user revoke-grant`, straight on a SQLite file. */

describe('drover user grant', () => {
  let dir: string;
  const db = () => ['--db', join(dir, 'drover.sqlite')];
  const run = (...args: string[]) => drover('', [...args, ...db()]);
  before(async () => {
    await buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'drover-grants-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a pool manager and a wrangler, lists them, and takes them back', async () => {
    assert.equal((await run('user', 'add', 'alice')).code, 0);
    assert.equal((await run('user', 'add', 'bob')).code, 0);
    assert.equal((await run('user', 'add', 'render-01', '--role', 'node')).code, 0);

    const pool = await run('user', 'grant', 'alice', '--pool', 'comp');
    assert.equal(pool.code, 0, pool.stderr);
    assert.match(pool.stdout, /^granted: alice manages pool comp \(grant \d+\)\n$/);
    const wrangler = await run('user', 'grant', 'bob', '--wrangler');
    assert.equal(wrangler.code, 0, wrangler.stderr);
    assert.match(wrangler.stdout, /^granted: bob is a wrangler \(every job\)/);

    const list = await run('user', 'grants');
    assert.equal(list.code, 0, list.stderr);
    const [header, ...rows] = list.stdout.trim().split('\n');
    assert.equal(header, 'ID\tUSER\tKIND\tPOOL\tGRANTED\tBY');
    assert.deepEqual(
      rows.map((r) => r.split('\t')).map(([, user, kind, p, , by]) => [user, kind, p, by]),
      [
        ['alice', 'pool', 'comp', 'cli'],
        ['bob', 'wrangler', '-', 'cli'],
      ],
    );
    const ofBob = await run('user', 'grants', 'bob');
    assert.equal(ofBob.stdout.trim().split('\n').length, 2);

    // One of --pool and --wrangler, for a user that exists and is not a node account.
    const both = await run('user', 'grant', 'alice', '--pool', 'fx', '--wrangler');
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /exactly one of --pool NAME .* or --wrangler/);
    const node = await run('user', 'grant', 'render-01', '--wrangler');
    assert.notEqual(node.code, 0);
    assert.match(node.stderr, /render-01 is a node account/);
    const nobody = await run('user', 'grant', 'nobody', '--pool', 'comp');
    assert.notEqual(nobody.code, 0);
    assert.match(nobody.stderr, /user nobody does not exist/);

    const revoked = await run('user', 'revoke-grant', 'alice', '--pool', 'comp');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, 'revoked: alice manages pool comp\n');
    const again = await run('user', 'revoke-grant', 'alice', '--pool', 'comp');
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /alice is not a manager of pool comp/);
    const left = await run('user', 'grants');
    assert.deepEqual(
      left.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((r) => r.split('\t')[1]),
      ['bob'],
    );
  });
});
