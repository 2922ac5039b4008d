import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkHealthy,
  describeFinding,
  FACES,
  fuzzFace,
  startFuzzTarget,
  type FuzzTarget,
} from '../fuzz/harness.js';
import { TEST_DATABASES } from '../helpers/databases.js';

/*
 * Issue 12: hostile input on every face, on both databases. A real server (auth off, so
 * requests reach the handlers as the local admin; then a slice with auth on) gets requests
 * drawn from the routes it registered: wrong types, numbers past every bound, huge and NUL
 * strings, bodies 5,000 deep or 40,000 wide, invalid JSON, wrong content types, unicode,
 * empty bodies, and valid requests with one field changed. No answer may be a 5xx, except
 * Deadline's by-spec plain-text ones, and the server must be healthy afterwards.
 *
 * CI size: DROVER_FUZZ_RUNS requests per face (default 400, a quarter of that with auth;
 * about 25 s per database on a 2-core machine).
 * Reproduce a run with DROVER_FUZZ_SEED (printed below). The on-demand size, 100,000 per
 * face, is `npx tsx bench/fuzz.ts` (bench/README.md).
 */

const RUNS = Number(process.env.DROVER_FUZZ_RUNS ?? 400);
const AUTH_RUNS = Math.max(50, Math.round(RUNS / 4));
const SEED = Number(process.env.DROVER_FUZZ_SEED ?? 20261205);

for (const database of TEST_DATABASES) {
  for (const auth of [false, true]) {
    const runs = auth ? AUTH_RUNS : RUNS;
    describe(`fuzz: every face${auth ? ' with auth' : ''} (${database.name})`, () => {
      let target: FuzzTarget;
      before(async () => {
        target = await startFuzzTarget(database, { auth });
      });
      after(async () => {
        await target?.close();
      });

      for (const face of FACES) {
        it(`${face}: ${runs} hostile requests, seed ${SEED}, no 5xx`, async () => {
          const result = await fuzzFace(target, face, { runs, seed: SEED });
          assert.equal(result.requests, runs);
          // The fuzz must get past the front door: some requests succeed, some are refused
          // (with auth on, where most callers are strangers, some for their credentials).
          const statuses = Object.keys(result.statuses).map(Number);
          assert.ok(
            auth ? statuses.includes(401) : statuses.some((s) => s >= 200 && s < 300),
            `no request ${auth ? 'was refused its credentials' : 'succeeded'}: ${JSON.stringify(result.statuses)}`,
          );
          assert.ok(
            statuses.some((s) => s >= 400 && s < 500),
            `no request was refused: ${JSON.stringify(result.statuses)}`,
          );
          assert.deepEqual(
            result.findings.map(describeFinding),
            [],
            `server errors:\n${target.serverErrors.join('\n')}`,
          );
        });
      }

      it('the server is healthy afterwards: health, submit, list, Deadline', async () => {
        assert.deepEqual(await checkHealthy(target), []);
      });
    });
  }

  describe(`fuzz: the health check (${database.name})`, () => {
    it("uses an admin of its own, whatever the fuzz did to the fuzz's admin", async () => {
      const target = await startFuzzTarget(database, { auth: true });
      try {
        const headers = target.world.adminHeaders;
        // What fuzzed requests may do as the fuzz's admin: revoke its own tokens.
        const tokens = await target.t.request('GET', '/api/v1/tokens', undefined, headers);
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        const items = (tokens.body.items ?? tokens.body) as { id: number; user: string }[];
        for (const token of items.filter((x) => x.user === 'fuzz-admin')) {
          await target.t.request('DELETE', `/api/v1/tokens/${token.id}`, undefined, headers);
        }
        const refused = await target.t.request('GET', '/api/v1/jobs', undefined, headers);
        assert.equal(refused.status, 401, "the fuzz's admin token is gone");
        assert.deepEqual(await checkHealthy(target), []);
        // Each check makes its own; a second one works as well.
        assert.deepEqual(await checkHealthy(target), []);
      } finally {
        await target.close();
      }
    });
  });
}
