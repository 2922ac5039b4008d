import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/*
 * The store and the engine know no dialect and no format (docs/architecture.md). ESLint's
 * import-x/no-restricted-paths keeps them from importing one; this suite checks that the
 * rule is in force, and what a lint rule cannot see: that no file, folder or exported symbol
 * of theirs is named for one. Migrations are left out: each database records their names,
 * so renaming one would run it again.
 */

const ROOT = join(import.meta.dirname, '../..');
const NAMED_FOR_A_FACE = /scale|ufdl|deadline|seed|openjd/i;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'migrations') return [];
    return statSync(path).isDirectory() ? [path, ...walk(path)] : [path];
  });
}

const core = ['src/store', 'src/engine'].flatMap((dir) => walk(join(ROOT, dir)));

describe('the store and the engine are named for no face or format', () => {
  it('holds no file or folder named for a dialect or a format', () => {
    assert.ok(core.length > 50, 'the walk found the store and the engine');
    const named = core
      .map((path) => relative(ROOT, path))
      .filter((path) => NAMED_FOR_A_FACE.test(path.split('/').at(-1)!));
    assert.deepEqual(named, []);
  });

  it('exports no symbol named for a dialect or a format', () => {
    const declaration =
      /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z0-9_$]+)/gm;
    const named: string[] = [];
    for (const path of core.filter((p) => p.endsWith('.ts'))) {
      for (const match of readFileSync(path, 'utf8').matchAll(declaration)) {
        if (NAMED_FOR_A_FACE.test(match[1]!)) named.push(`${relative(ROOT, path)}: ${match[1]}`);
      }
    }
    assert.deepEqual(named, []);
  });

  it('fails the lint when the store or the engine imports a face or a format, or a face another', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const refused = async (file: string, from: string) => {
      const [result] = await eslint.lintText(
        `import { x } from '${from}';\nexport const y = x;\n`,
        {
          filePath: join(ROOT, file),
        },
      );
      return result!.messages
        .filter((m) => m.ruleId === 'import-x/no-restricted-paths')
        .map((m) => m.message);
    };
    assert.match(
      (await refused('src/store/example.ts', '../api/ufdl/job-view.js')).join(),
      /The store knows no engine, face or format/,
    );
    assert.match(
      (await refused('src/engine/jobs/example.ts', '../../formats/seed/seed-jobs.js')).join(),
      /The engine knows no face or format/,
    );
    assert.match(
      (await refused('src/api/scale/example.ts', '../deadline/ids.js')).join(),
      /No face calls another/,
    );
    assert.deepEqual(await refused('src/api/scale/example.ts', '../../store/jobs.js'), []);
  });
});
