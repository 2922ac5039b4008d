import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../helpers/databases.js';
import {
  ensureBuilt,
  jobState,
  startE2eServer,
  startWorker,
  waitFor,
  type E2eServer,
  type WorkerProcess,
} from '../worker/support.js';

/*
 * A pool's path mapping rules, held by the server, on a real `drover worker` of the pool
 * (docs/workers.md#path-mapping): the work order carries them, and the worker maps the PATH
 * parameters of an OpenJD job by them and by its own --path-mapping-rules file, whose rule
 * for the same source path replaces the pool's. The session's rules file holds the rules it
 * ran with: the pool's (less the replaced one), then the worker's.
 */

const TEMPLATE = {
  specificationVersion: 'jobtemplate-2023-09',
  name: 'Mapped',
  parameterDefinitions: [
    { name: 'Log', type: 'PATH' },
    { name: 'Scene', type: 'PATH' },
    { name: 'Texture', type: 'PATH' },
    { name: 'Cache', type: 'PATH' },
    { name: 'Reference', type: 'PATH' },
  ],
  steps: [
    {
      name: 'Render',
      script: {
        actions: {
          onRun: {
            command: 'bash',
            args: [
              '-c',
              'echo "$1 $2 $3 $4 $5" >> "$0"; cat "$6" >> "$0"; echo >> "$0"',
              '{{RawParam.Log}}',
              '{{Param.Scene}}',
              '{{Param.Texture}}',
              '{{Param.Cache}}',
              '{{Param.Reference}}',
              '{{RawParam.Scene}}',
              '{{Session.PathMappingRulesFile}}',
            ],
          },
        },
      },
    },
  ],
};

for (const database of TEST_DATABASES) {
  describe(
    `a pool's path mapping rules on a worker (${database.name})`,
    { timeout: 180_000 },
    () => {
      let e2e: E2eServer;
      let worker: WorkerProcess;
      let dir: string;
      const pool = (dataDir: string) => [
        {
          source_path_format: 'POSIX',
          source_path: '/studio/projects',
          destination_path: join(dataDir, 'pool-projects'),
        },
        {
          source_path_format: 'WINDOWS',
          source_path: 'P:\\',
          destination_path: join(dataDir, 'pool-p'),
        },
        { source_path_format: 'POSIX', source_path: '/studio/cache', destination_path: '/nowhere' },
      ];
      const local = (dataDir: string) => [
        {
          source_path_format: 'POSIX',
          source_path: '/studio/cache/',
          destination_path: join(dataDir, 'local-cache'),
        },
        {
          source_path_format: 'POSIX',
          source_path: '/refs',
          destination_path: join(dataDir, 'local-refs'),
        },
      ];

      before(async () => {
        ensureBuilt();
        e2e = await startE2eServer({}, database);
        dir = e2e.dataDir;
        const set = await e2e.api('PUT', '/api/v1/pools/render/path-mapping-rules', {
          version: 'pathmapping-1.0',
          path_mapping_rules: pool(dir),
        });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        const file = join(dir, 'local-rules.json');
        writeFileSync(
          file,
          JSON.stringify({ version: 'pathmapping-1.0', path_mapping_rules: local(dir) }),
        );
        worker = startWorker(e2e.url, 'mapped-worker', join(dir, 'w'), [
          '--pools',
          'render',
          '--path-mapping-rules',
          file,
        ]);
      });

      after(async () => {
        await worker?.stop();
        await e2e?.close();
      });

      it("maps a PATH parameter by the pool's rules and the worker's own", async () => {
        const log = join(dir, 'mapped.log');
        const res = await e2e.api('POST', '/api/v1/jobs', {
          template: TEMPLATE,
          pool: 'render',
          maxTries: 1,
          parameters: {
            Log: log,
            Scene: '/studio/projects/sh010/scene.blend',
            Texture: 'p:\\textures\\wood.png',
            Cache: '/studio/cache/sim/frame.vdb',
            Reference: '/refs/plate.jpg',
          },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const parentId = res.body.id as number;
        const done = await waitFor(
          `job ${parentId} to end`,
          90_000,
          async () => {
            const j = await jobState(e2e, parentId);
            return ['COMPLETED', 'FAILED', 'CANCELED'].includes(j.state) ? j : undefined;
          },
          () => worker.output(),
        );
        assert.equal(done.state, 'COMPLETED', worker.output());
        assert.ok(existsSync(log), worker.output());
        const [values, rulesFile] = readFileSync(log, 'utf8').split('\n');
        assert.equal(
          values,
          [
            join(dir, 'pool-projects', 'sh010', 'scene.blend'),
            `${join(dir, 'pool-p')}/textures/wood.png`,
            join(dir, 'local-cache', 'sim', 'frame.vdb'),
            join(dir, 'local-refs', 'plate.jpg'),
            '/studio/projects/sh010/scene.blend',
          ].join(' '),
        );
        const [projects, drive] = pool(dir);
        assert.deepEqual(JSON.parse(rulesFile!), {
          version: 'pathmapping-1.0',
          path_mapping_rules: [projects, drive, ...local(dir)],
        });
      });
    },
  );
}
