/*
 * The fuzz suite at full size (issue 12): `npx tsx bench/fuzz.ts [--runs 100000]
 * [--auth-runs 2000] [--seed N] [--db sqlite|postgres|both] [--concurrency 4]
 * [--threads 2] [--face native,scale,ufdl,deadline]`. Sends
 * `--runs` hostile requests to each face (native, Scale, UFDL, Deadline) of a real server
 * on each database, then `--auth-runs` more per face with auth on, and prints per face the
 * requests, the 5xx found (each with the request that made it) and the time. Exits 1 if
 * anything was found or the server was not healthy afterwards. test/api/fuzz.test.ts runs
 * the same harness at CI size.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.DROVER_FUZZ_RUNS ?? '100000' },
    'auth-runs': { type: 'string', default: '2000' },
    seed: { type: 'string', default: process.env.DROVER_FUZZ_SEED ?? '1212' },
    db: { type: 'string', default: 'both' },
    concurrency: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    face: { type: 'string' },
  },
});

if (!process.env.DROVER_TEST_PG && values.db !== 'sqlite') {
  process.env.DROVER_TEST_PG =
    process.env.DROVER_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
}
// Imported only now: the list of databases is read from the environment set just above.
const { TEST_DATABASES } = await import('../test/helpers/databases.js');
const { checkHealthy, describeFinding, FACES, fuzzFace, startFuzzTarget } =
  await import('../test/fuzz/harness.js');

const runs = Number(values.runs);
const authRuns = Number(values['auth-runs']);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
const threads = Number(values.threads);
const faces = values.face ? FACES.filter((f) => values.face!.split(',').includes(f)) : FACES;
const databases = TEST_DATABASES.filter((d) => values.db === 'both' || d.name === values.db);

console.log(
  `fuzz: seed ${seed}, ${runs} requests per face, ${authRuns} with auth, concurrency ${concurrency} in each of ${threads} client threads`,
);
let failed = false;
for (const database of databases) {
  for (const [auth, count] of [
    [false, runs],
    [true, authRuns],
  ] as const) {
    if (count === 0) continue;
    const target = await startFuzzTarget(database, { auth });
    try {
      for (const face of faces) {
        const result = await fuzzFace(target, face, {
          runs: count,
          seed,
          concurrency,
          threads,
          // A line every 10 batches, so a run stopped early still says how far it got.
          onProgress: (sent, found, ms) => {
            if (sent % 5000 === 0 && sent < count) {
              console.log(`  ${face}: ${sent} sent, ${found} 5xx, ${(ms / 1000).toFixed(0)} s`);
            }
          },
          onFinding: (f) => {
            console.log(`  found: ${describeFinding(f)}`);
            console.log(`    ${target.serverErrors.at(-1) ?? '(nothing logged)'}`);
          },
        });
        const rate = Math.round((result.requests / result.ms) * 1000);
        console.log(
          `${database.name}${auth ? ' --auth' : ''} ${face}: ${result.requests} requests, ` +
            `${result.findings.length} 5xx, ${(result.ms / 1000).toFixed(1)} s (${rate}/s) ` +
            JSON.stringify(result.statuses),
        );
        if (result.findings.length > 0) failed = true;
      }
      const problems = await checkHealthy(target);
      console.log(
        `${database.name}${auth ? ' --auth' : ''} after: ${problems.length ? problems.join('; ') : 'healthy'}`,
      );
      if (problems.length) failed = true;
    } finally {
      await target.close();
    }
  }
}
process.exit(failed ? 1 : 0);
