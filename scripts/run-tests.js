#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner, TypeScript through tsx.
// Node 20's runner cannot glob .ts files itself, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test').sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  {
    stdio: 'inherit',
    env: {
      // A test's PostgreSQL commits need not outlive a crash of PostgreSQL itself; waiting
      // for each one's WAL flush cost ~5.5 ms per commit on the CI machine, against ~0.2.
      PGOPTIONS: '-c synchronous_commit=off',
      ...process.env,
      NODE_ENV: 'test',
    },
  },
);
process.exit(result.status ?? 1);
