import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildOnce, drover } from './support.js';

/* `drover token create --expires`, `token list`, `token revoke`, straight on a SQLite file. */

describe('drover token', () => {
  let dir: string;
  const db = () => ['--db', join(dir, 'drover.sqlite')];
  before(async () => {
    await buildOnce();
    dir = mkdtempSync(join(tmpdir(), 'drover-tokens-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an expiring token, lists it without the token, and revokes it', async () => {
    assert.equal((await drover('', ['user', 'add', 'alice', ...db()])).code, 0);
    const created = await drover('', [
      'token',
      'create',
      '--user',
      'alice',
      '--name',
      'laptop',
      '--expires',
      '30d',
      ...db(),
    ]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^drv_/);

    const list = await drover('', ['token', 'list', ...db()]);
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.trim().split('\n');
    assert.equal(header, 'ID\tUSER\tNAME\tCREATED\tLAST USED\tEXPIRES');
    const [id, user, name, createdAt, lastUsed, expires] = row!.split('\t');
    assert.deepEqual([user, name, lastUsed], ['alice', 'laptop', '-']);
    const days = (Date.parse(expires!) - Date.parse(createdAt!)) / 86_400_000;
    assert.equal(days, 30);
    assert.equal(list.stdout.includes(token), false);

    const bad = await drover('', [
      'token',
      'create',
      '--user',
      'alice',
      '--expires',
      'soon',
      ...db(),
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /"soon" is not a duration; .* e\.g\. 30d/);

    const revoked = await drover('', ['token', 'revoke', id!, ...db()]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `token ${id} revoked\n`);
    const after = await drover('', ['token', 'list', ...db()]);
    assert.equal(after.stdout.trim().split('\n').length, 1);
  });
});
