import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLIENT_TYPES_FILE, renderClientTypes } from '../../scripts/generate-client-types.js';

/*
 * The committed client types are what the server's OpenAPI document generates today: a route
 * schema changed without `npx tsx scripts/generate-client-types.ts` fails here, so the CLI,
 * the web UI and DroverClient's users never compile against an API the server no longer has.
 */
describe('generated client types', () => {
  it('src/client/openapi-types.ts matches the native OpenAPI document', async () => {
    const expected = await renderClientTypes();
    const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8');
    assert.ok(
      committed === expected,
      `${CLIENT_TYPES_FILE} is stale: run \`npx tsx scripts/generate-client-types.ts\` and commit it`,
    );
  });

  it('names the native schemas after their $id', async () => {
    const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8');
    for (const name of ['Job', 'Task', 'Execution', 'Node', 'JobType']) {
      assert.match(committed, new RegExp(`^    ${name}: \\{`, 'm'), name);
    }
    assert.doesNotMatch(committed, /'def-\d+'/);
  });
});
