import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import { archiveJob, importArchive } from '../../src/engine/jobs/job-archives.js';
import { submitJob } from '../../src/engine/jobs/job-submission.js';
import { startTestEngine, TEST_DATABASES, type TestEngine } from '../helpers/databases.js';

/*
 * Issue 12, point 9: a symbolic link inside the archive directory was followed on import
 * and written through on archive, and messages showed the server's absolute paths. Real
 * files and links in a temporary directory.
 */

for (const database of TEST_DATABASES) {
  describe(`the archive directory and symbolic links (${database.name})`, () => {
    let t: TestEngine;
    let base: string;
    let archives: string;
    let outside: string;
    before(async () => {
      t = await startTestEngine(database);
      base = mkdtempSync(join(tmpdir(), 'drover-archive-links-'));
      archives = join(base, 'archives');
      outside = join(base, 'outside');
      mkdirSync(archives);
      mkdirSync(outside);
    });
    after(async () => {
      await t?.close();
      rmSync(base, { recursive: true, force: true });
    });

    const job = () =>
      submitJob(t.engine.ctx, {
        type: 'command-line',
        user: 'alice',
        parameters: { executable: 'echo' },
      });

    function refusedOutside(error: unknown): boolean {
      assert.ok(error instanceof DroverError, String(error));
      assert.equal(error.code, 'VALIDATION');
      assert.match(error.message, /is not in the archive directory/);
      assert.ok(!error.message.includes(base), `the message shows a server path: ${error.message}`);
      return true;
    }

    it('refuses to write through a link that points outside, even a dangling one', async () => {
      const target = join(outside, 'victim.json');
      writeFileSync(target, 'precious');
      symlinkSync(target, join(archives, 'link.json'));
      symlinkSync(join(outside, 'new.json'), join(archives, 'dangling.json'));
      const id = await job();
      for (const fileName of ['link.json', 'dangling.json']) {
        await assert.rejects(
          archiveJob(t.engine.ctx, id, { directory: archives, fileName }),
          refusedOutside,
        );
      }
      assert.equal(readFileSync(target, 'utf8'), 'precious');
      assert.equal(existsSync(join(outside, 'new.json')), false);
    });

    it('refuses to read through a link that points outside', async () => {
      const id = await job();
      const written = await archiveJob(t.engine.ctx, id, {
        directory: outside,
        fileName: 'elsewhere.json',
      });
      symlinkSync(written, join(archives, 'import-link.json'));
      await assert.rejects(
        importArchive(t.engine.ctx, 'import-link.json', { directory: archives }),
        refusedOutside,
      );
    });

    it('follows a link that stays inside, and names missing files relative to the directory', async () => {
      const id = await job();
      await archiveJob(t.engine.ctx, id, { directory: archives, fileName: 'real.json' });
      symlinkSync(join(archives, 'real.json'), join(archives, 'inside-link.json'));
      const imported = await importArchive(t.engine.ctx, 'inside-link.json', {
        directory: archives,
      });
      assert.equal(imported.jobId, id);
      await assert.rejects(
        importArchive(t.engine.ctx, 'missing.json', { directory: archives }),
        (error: Error) => {
          assert.equal(error.message, 'no archive file missing.json');
          return true;
        },
      );
    });
  });
}
