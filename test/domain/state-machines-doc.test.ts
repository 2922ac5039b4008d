import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { stateMachinesPage } from '../../scripts/state-machines-doc.js';

it('docs/state-machines.md is drawn from the transition tables', () => {
  assert.equal(
    readFileSync('docs/state-machines.md', 'utf8'),
    stateMachinesPage(),
    'regenerate it with `npx tsx scripts/state-machines-doc.ts`',
  );
});
