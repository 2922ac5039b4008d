import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import {
  appendJobFrameRange,
  setJobFrameRange,
} from '../../src/engine/tasks/frame-range-changes.js';
import { TEST_DATABASES } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/http.js';
import {
  acquire,
  expectError,
  expectStatus,
  getJob,
  register,
  report,
  runAll,
  tasksOf,
} from './support.js';

/* POST /api/v1/jobs {template, parameters}: an OpenJD job as a parent with a job per step. */

const TEMPLATE = readFileSync(
  new URL('../formats/openjd/fixtures/render-encode.yaml', import.meta.url),
  'utf8',
);

for (const database of TEST_DATABASES) {
  describe(`native API: OpenJD job templates (${database.name})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(database);
    });
    after(async () => {
      await t?.close();
    });

    const submitTemplate = (body: Record<string, unknown>) =>
      t.request('POST', '/api/v1/jobs', { template: TEMPLATE, ...body });
    const stepsOf = async (parentId: number) => {
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parentId}`), 200);
      const items = res.body.items as { childName: string; state: string; id: number }[];
      const byName = new Map<string, any>(items.map((j) => [j.childName, j])); // eslint-disable-line @typescript-eslint/no-explicit-any
      return { render: byName.get('Render'), encode: byName.get('Encode'), all: items };
    };

    it('makes a parent and a job per step, the second waiting on the first', async () => {
      const res = expectStatus(
        await submitTemplate({
          parameters: { OutputDir: '/tmp/out', Frames: '1-3', Shot: 'sh020' },
          priority: 70,
          pool: 'first',
          machineLimit: 2,
          protected: true,
        }),
        201,
      );
      const parent = res.body;
      assert.equal(parent.type.name, 'openjd-job');
      assert.equal(parent.name, 'Render sh020');
      // No tasks of its own: its steps' added up (6 render, 2 encode), and its steps.
      assert.equal(parent.tasks.total, 8);
      assert.equal(parent.steps.total, 2);
      assert.equal(parent.state, 'QUEUED');

      const { render, encode, all } = await stepsOf(parent.id);
      assert.equal(all.length, 2);
      assert.equal(render.name, 'Render sh020 / Render');
      assert.equal(render.type.name, 'openjd-step');
      assert.equal(render.parentId, parent.id);
      assert.equal(render.priority, 70);
      // What governs running tasks reaches each step's job.
      assert.equal(render.machineLimit, 2);
      assert.equal(encode.machineLimit, 2);
      assert.equal(encode.protected, true);
      assert.equal(render.taskTimeout, 120);
      assert.equal(render.resources.cpus, 1);
      assert.equal(render.state, 'QUEUED');
      assert.equal(render.tasks.total, 6);
      assert.equal(encode.state, 'PENDING');
      assert.equal(encode.pendReason, 'DEPENDENCIES');
      assert.deepEqual((await getJob(t, encode.id)).dependencies, [render.id]);

      // Each task is one point of Frame * Camera, with its values.
      const points = (await tasksOf(t, render.id)).map((x) => x.parameters);
      assert.deepEqual(points, [
        { Frame: '1', Camera: 'front' },
        { Frame: '1', Camera: 'side' },
        { Frame: '2', Camera: 'front' },
        { Frame: '2', Camera: 'side' },
        { Frame: '3', Camera: 'front' },
        { Frame: '3', Camera: 'side' },
      ]);
      assert.deepEqual(
        (await tasksOf(t, encode.id)).map((x) => x.parameters),
        [{ Camera: 'front' }, { Camera: 'side' }],
      );
    });

    it('dispatches the steps in dependency order, and the parent follows its children', async () => {
      const parent = expectStatus(
        await submitTemplate({ parameters: { OutputDir: '/tmp/out', Frames: '7' }, pool: 'oj' }),
        201,
      ).body;
      const { render, encode } = await stepsOf(parent.id);
      const node = await register(t, 'openjd-node', { pools: ['oj'] });

      // Only the render step's tasks are handed out while it runs.
      const order = await acquire(t, node.id);
      assert.equal(order.job.id, render.id);
      assert.deepEqual(order.task.parameters, { Frame: '7', Camera: 'front' });
      assert.equal(order.job.parameters.openjd.onRun.command, 'bash');
      assert.equal(order.job.parameters.openjd.symbols['Param.Frames'], '7');
      assert.equal(order.job.parameters.openjd.symbols['RawParam.OutputDir'], '/tmp/out');
      assert.equal(order.jobType.name, 'openjd-step');
      expectStatus(await report(t, order.execution.id, 'start', { nodeId: node.id }), 200);
      assert.equal((await getJob(t, parent.id)).state, 'RUNNING');
      expectStatus(
        await report(t, order.execution.id, 'finish', {
          nodeId: node.id,
          success: true,
          exitCode: 0,
        }),
        200,
      );
      const second = await acquire(t, node.id);
      assert.equal(second.job.id, render.id);
      expectStatus(await report(t, second.execution.id, 'start', { nodeId: node.id }), 200);
      assert.equal((await getJob(t, encode.id)).state, 'PENDING');
      expectStatus(
        await report(t, second.execution.id, 'finish', {
          nodeId: node.id,
          success: true,
          exitCode: 0,
        }),
        200,
      );
      // Render complete: encode is released and runs.
      assert.equal((await getJob(t, render.id)).state, 'COMPLETED');
      assert.equal((await getJob(t, encode.id)).state, 'QUEUED');
      assert.equal(await runAll(t, node.id), 2);
      assert.equal((await getJob(t, encode.id)).state, 'COMPLETED');
      assert.equal((await getJob(t, parent.id)).state, 'COMPLETED');
    });

    it('an action on the parent reaches every step', async () => {
      const parent = expectStatus(
        await submitTemplate({ parameters: { OutputDir: '/tmp/out' } }),
        201,
      ).body;
      expectStatus(await t.request('POST', `/api/v1/jobs/${parent.id}/suspend`), 200);
      let steps = await stepsOf(parent.id);
      assert.equal(steps.render.state, 'SUSPENDED');
      assert.equal((await getJob(t, parent.id)).state, 'SUSPENDED');
      expectStatus(await t.request('POST', `/api/v1/jobs/${parent.id}/cancel`), 200);
      steps = await stepsOf(parent.id);
      assert.deepEqual(
        steps.all.map((j) => j.state),
        ['CANCELED', 'CANCELED'],
      );
      assert.equal((await getJob(t, parent.id)).state, 'CANCELED');
      // A step's tasks are no frames: its frame range (Deadline's SetJobFrameRange) cannot change.
      await assert.rejects(
        setJobFrameRange(t.engine.ctx, steps.render.id, '1-5'),
        /points of a parameter space, not frames/,
      );
    });

    it('refuses bad submissions with the path and the rule', async () => {
      let res = expectError(await submitTemplate({}), 400, 'VALIDATION');
      assert.match(res.body.message, /parameters\.OutputDir: needs a value/);

      res = expectError(
        await submitTemplate({ parameters: { OutputDir: '/o', Fps: 23, Extra: 1 } }),
        400,
      );
      assert.match(res.body.message, /parameters\.Fps: 23 is not one of allowedValues 24, 25, 30/);
      assert.match(res.body.message, /parameters\.Extra: the template defines no job parameter/);

      // A range that only the parameter values make wrong is refused at its path.
      res = expectError(
        await submitTemplate({ parameters: { OutputDir: '/o', Frames: '5-1:0' } }),
        400,
      );
      assert.match(
        res.body.message,
        /steps\[0\]\.parameterSpace\.taskParameterDefinitions\[0\]\.range: "5-1:0": the step must not be zero/,
      );

      res = expectError(
        await submitTemplate({ parameters: { OutputDir: '/o' }, frames: '1-10' }),
        400,
      );
      assert.match(res.body.message, /give none of type, frames/);
      res = expectError(await submitTemplate({ type: 'command-line' }), 400);
      assert.match(res.body.message, /give none of type/);
      res = expectError(await t.request('POST', '/api/v1/jobs', { name: 'x' }), 400);
      assert.match(res.body.message, /give a job type \(type\) or an OpenJD job template/);

      res = expectError(
        await t.request('POST', '/api/v1/jobs', {
          template: TEMPLATE.replace('dependsOn: Render', 'dependsOn: Denoise'),
          parameters: { OutputDir: '/o' },
        }),
        400,
      );
      assert.match(
        res.body.message,
        /steps\[1\]\.dependencies\[0\]\.dependsOn: no step is named "Denoise"/,
      );

      // As a JSON object too, and nothing was made by any refused submission.
      const before = expectStatus(await t.request('GET', '/api/v1/jobs?type=openjd-step'), 200);
      res = expectError(
        await t.request('POST', '/api/v1/jobs', {
          template: { specificationVersion: 'jobtemplate-2023-09', name: 'x', steps: [] },
        }),
        400,
      );
      assert.match(res.body.message, /steps: must have at least 1 element/);
      const after = expectStatus(await t.request('GET', '/api/v1/jobs?type=openjd-step'), 200);
      assert.equal(after.body.total, before.body.total);
    });

    it('takes environments, resolved by the worker, and refuses bad ones by path', async () => {
      const env = [
        'jobEnvironments:',
        '  - name: Farm',
        '    variables:',
        '      OUT: "{{Param.OutputDir}}"',
        '    script:',
        '      actions:',
        '        onEnter:',
        '          command: echo',
        '          args: ["{{Env.File.Setup}}"]',
        '      embeddedFiles:',
        '        - name: Setup',
        '          type: TEXT',
        '          data: "setup {{Session.WorkingDirectory}}"',
        '',
      ].join('\n');
      const res = expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          template: `${TEMPLATE}${env}`,
          parameters: { OutputDir: '/o' },
        }),
        201,
      );
      const { all } = await stepsOf(res.body.id as number);
      assert.equal(all.length, 2);
      // Every step's job carries the job's environments, as written: the worker resolves
      // them in its session (Session.WorkingDirectory, Env.File.X).
      for (const step of all) {
        const job = await getJob(t, step.id);
        const run = (job.parameters as any).openjd; // eslint-disable-line @typescript-eslint/no-explicit-any
        assert.equal(run.jobEnvironments[0].name, 'Farm');
        assert.deepEqual(run.jobEnvironments[0].variables, { OUT: '{{Param.OutputDir}}' });
        assert.equal(run.jobEnvironments[0].onEnter.args[0], '{{Env.File.Setup}}');
        assert.equal(run.stepEnvironments, undefined);
      }

      const bad = async (yaml: string, message: RegExp) => {
        const r = expectError(
          await t.request('POST', '/api/v1/jobs', {
            template: `${TEMPLATE}${yaml}`,
            parameters: { OutputDir: '/o' },
          }),
          400,
        );
        assert.match(r.body.message as string, message);
      };
      await bad(
        'jobEnvironments:\n  - name: A\n    variables: {X: "1"}\n  - name: A\n    variables: {Y: "1"}\n',
        /jobEnvironments\[1\]\.name: "A" is also the name of/,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n    variables: {"1X": "1"}\n',
        /jobEnvironments\[0\]\.variables\.1X: is not a variable name/,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n',
        /jobEnvironments\[0\]: needs a script, variables, or both/,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n    script:\n      actions: {}\n',
        /jobEnvironments\[0\]\.script\.actions: needs onEnter, onExit, or both/,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n    script:\n      actions:\n        onEnter: {command: "{{Env.File.Nope}}"}\n',
        /jobEnvironments\[0\]\.script\.actions\.onEnter\.command: .*no file "Nope"/,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n    script:\n      actions:\n        onExit: {command: "{{Task.Param.Frame}}"}\n',
        /jobEnvironments\[0\]\.script\.actions\.onExit\.command: /,
      );
      await bad(
        'jobEnvironments:\n  - name: A\n    script:\n      actions:\n        onEnter: {command: x, timeout: 0}\n',
        /jobEnvironments\[0\]\.script\.actions\.onEnter\.timeout: must be a positive integer/,
      );
    });

    it('frameDependent: a step waits only for the same frames of a step sharing its Frame', async () => {
      const template = {
        specificationVersion: 'jobtemplate-2023-09',
        extensions: ['TASK_CHUNKING'],
        name: 'frames',
        steps: [
          {
            name: 'Render',
            parameterSpace: {
              taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: '1-20' }],
            },
            script: { actions: { onRun: { command: 'echo', args: ['{{Task.Param.Frame}}'] } } },
          },
          {
            name: 'Denoise',
            dependencies: [{ dependsOn: 'Render' }],
            parameterSpace: {
              taskParameterDefinitions: [
                {
                  name: 'Frame',
                  type: 'CHUNK[INT]',
                  range: '1-20',
                  chunks: { defaultTaskCount: 5, rangeConstraint: 'CONTIGUOUS' },
                },
              ],
            },
            script: { actions: { onRun: { command: 'echo', args: ['{{Task.Param.Frame}}'] } } },
          },
          {
            name: 'Encode',
            dependencies: [{ dependsOn: 'Denoise' }],
            script: { actions: { onRun: { command: 'echo', args: ['encode'] } } },
          },
        ],
      };
      const parent = expectStatus(
        await t.request('POST', '/api/v1/jobs', { template, frameDependent: true }),
        201,
      ).body;
      const res = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${parent.id}`), 200);
      type Step = { childName: string; state: string; id: number; [key: string]: unknown };
      const steps = new Map<string, Step>(res.body.items.map((j: Step) => [j.childName, j]));
      const render = steps.get('Render')!;
      const denoise = steps.get('Denoise')!;
      const encode = steps.get('Encode')!;
      assert.equal(denoise.state, 'QUEUED', 'Denoise waits frame by frame, not as a whole');
      assert.equal(denoise.frameDependent, true);
      assert.equal((denoise.tasks as { pending: number }).pending, 4);
      assert.equal(encode.state, 'PENDING', 'Encode has no Frame: it waits for all of Denoise');
      assert.equal(encode.frameDependent, false);

      // Render's frames 1-5 done: Denoise's chunk 1-5 runs, the others still wait.
      const renderTasks = await tasksOf(t, render.id);
      for (const task of renderTasks.slice(0, 5)) {
        expectStatus(await t.request('POST', `/api/v1/tasks/${task.id}/complete`), 200);
      }
      const denoiseTasks = await tasksOf(t, denoise.id);
      assert.deepEqual(
        denoiseTasks.map((x) => [x.parameters.Frame, x.state]),
        [
          ['1-5', 'QUEUED'],
          ['6-10', 'PENDING'],
          ['11-15', 'PENDING'],
          ['16-20', 'PENDING'],
        ],
      );
      assert.equal((await getJob(t, encode.id)).state, 'PENDING');
    });

    it('takes any other amount.NAME as the limit NAME, enforced while each task runs', async () => {
      expectStatus(await t.request('POST', '/api/v1/limits', { name: 'Nuke', maxCount: 1 }), 201);
      const template = (amounts: unknown[]) => ({
        specificationVersion: 'jobtemplate-2023-09',
        name: 'Comp',
        steps: [
          {
            name: 'Comp',
            parameterSpace: {
              taskParameterDefinitions: [{ name: 'Frame', type: 'INT', range: '1-2' }],
            },
            hostRequirements: { amounts },
            script: { actions: { onRun: { command: 'nuke', args: ['{{Task.Param.Frame}}'] } } },
          },
        ],
      });
      const res = expectStatus(
        await t.request('POST', '/api/v1/jobs', {
          template: template([{ name: 'amount.Nuke', min: 1 }]),
          pool: 'comp',
        }),
        201,
      );
      const [step] = expectStatus(await t.request('GET', `/api/v1/jobs?parent=${res.body.id}`), 200)
        .body.items as { id: number; limits: string[] }[];
      assert.deepEqual((await getJob(t, step!.id)).limits, ['nuke']);
      // One licence: the second node gets nothing of the step while the first task runs.
      // (Earlier tests' pool-less jobs may still be queued: those are run out of the way.)
      const acquireOfStep = async (nodeId: number) => {
        for (;;) {
          const work = await acquire(t, nodeId);
          if (!work || work.job.id === step!.id) return work;
          expectStatus(
            await report(t, work.execution.id, 'finish', { nodeId, success: true }),
            200,
          );
        }
      };
      const a = await register(t, 'comp-a', { pools: ['comp'] });
      const b = await register(t, 'comp-b', { pools: ['comp'] });
      const first = await acquireOfStep(a.id);
      assert.ok(first, 'the first node takes a task of the step');
      assert.equal(await acquireOfStep(b.id), undefined);
      expectStatus(
        await report(t, first.execution.id, 'finish', { nodeId: a.id, success: true }),
        200,
      );
      assert.equal((await acquireOfStep(b.id))?.job.id, step!.id);

      // An unknown limit, a count above one and a bad name are refused with where they are.
      const refused = async (amounts: unknown[], field: string, message: RegExp) => {
        const err = expectError(
          await t.request('POST', '/api/v1/jobs', { template: template(amounts) }),
          400,
        );
        assert.match(JSON.stringify(err.body), message, field);
      };
      await refused([{ name: 'amount.katana', min: 1 }], 'unknown', /katana/);
      await refused([{ name: 'amount.nuke', min: 2 }], 'min', /give min 1 or no bounds/);
      await refused([{ name: 'amount.nuke', max: 3 }], 'max', /give min 1 or no bounds/);
    });

    /** A node's next task of one of `jobIds`; other tests' work it gets is run out of the way. */
    const workOf = async (nodeId: number, jobIds: number[]) => {
      for (;;) {
        const work = await acquire(t, nodeId);
        if (!work || jobIds.includes(work.job.id)) return work;
        expectStatus(await report(t, work.execution.id, 'finish', { nodeId, success: true }), 200);
      }
    };

    it('deleting, undeleting and purging the parent take its steps along', async () => {
      const parent = expectStatus(
        await submitTemplate({ parameters: { OutputDir: '/tmp/out', Frames: '1' }, pool: 'gone' }),
        201,
      ).body;
      const { render, encode } = await stepsOf(parent.id);
      const node = await register(t, 'gone-node', { pools: ['gone'] });
      const running = await workOf(node.id, [render.id, encode.id]);
      assert.equal(running?.job.id, render.id);
      expectStatus(await report(t, running.execution.id, 'start', { nodeId: node.id }), 200);

      expectStatus(await t.request('DELETE', `/api/v1/jobs/${parent.id}`), 204);
      for (const id of [parent.id, render.id, encode.id]) {
        assert.notEqual((await getJob(t, id)).deletedAt, null, `job ${id} deleted`);
      }
      // The running task was withdrawn and nothing of the steps is handed out any more.
      expectError(
        await report(t, running.execution.id, 'finish', { nodeId: node.id, success: true }),
        409,
      );
      assert.equal(await workOf(node.id, [render.id, encode.id]), undefined);

      expectStatus(await t.request('POST', `/api/v1/jobs/${parent.id}/undelete`), 200);
      for (const id of [parent.id, render.id, encode.id]) {
        assert.equal((await getJob(t, id)).deletedAt, null, `job ${id} undeleted`);
      }
      assert.equal((await workOf(node.id, [render.id, encode.id]))?.job.id, render.id);

      expectStatus(await t.request('DELETE', `/api/v1/jobs/${parent.id}`), 204);
      expectStatus(await t.request('DELETE', `/api/v1/jobs/${parent.id}?purge=true`), 204);
      for (const id of [parent.id, render.id, encode.id]) {
        expectError(await t.request('GET', `/api/v1/jobs/${id}`), 404, 'NOT_FOUND');
      }
    });

    it("refuses to change a parent's frame range, pointing at its steps", async () => {
      const parent = expectStatus(
        await submitTemplate({ parameters: { OutputDir: '/tmp/out', Frames: '1-2' } }),
        201,
      ).body;
      for (const change of [
        () => setJobFrameRange(t.engine.ctx, parent.id, '1-5'),
        () => appendJobFrameRange(t.engine.ctx, parent.id, '3-4'),
      ]) {
        await assert.rejects(change(), (e: unknown) => {
          assert.ok(e instanceof DroverError);
          assert.equal(e.status, 409);
          assert.match(e.message, /parent job.*change the frame range of a step instead/);
          return true;
        });
      }
      // Still a parent: its steps' tasks (4 render, 2 encode), its steps as they were.
      const after = await getJob(t, parent.id);
      assert.equal(after.tasks.total, 6);
      assert.equal(after.state, 'QUEUED');
      const { render } = await stepsOf(parent.id);
      assert.equal(render.tasks.total, 4);
    });

    it("changing a parent's scheduling settings changes its steps' and their dispatch", async () => {
      const parent = expectStatus(
        await submitTemplate({
          parameters: { OutputDir: '/tmp/out', Frames: '1' },
          pool: 'before',
          priority: 40,
        }),
        201,
      ).body;
      const steps = await stepsOf(parent.id);
      const stepIds = steps.all.map((s) => s.id);
      const changed = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${parent.id}`, {
          name: 'Renamed parent',
          pool: 'after',
          group: 'gpu',
          priority: 85,
          machineLimit: 1,
          denyList: ['after-blocked'],
          maxTries: 7,
        }),
        200,
      ).body;
      assert.equal(changed.pool, 'after');
      for (const id of stepIds) {
        const step = await getJob(t, id);
        assert.equal(step.pool, 'after', `step ${id} pool`);
        assert.equal(step.group, 'gpu');
        assert.equal(step.priority, 85);
        assert.equal(step.machineLimit, 1);
        assert.equal(step.maxTries, 7);
        assert.deepEqual(step.nodeList, { mode: 'DENY', nodes: ['after-blocked'] });
        // The parent's own settings stay its own.
        assert.match(step.name, /^Render sh010 \/ /);
      }
      const old = await register(t, 'before-node', { pools: ['before'], groups: ['gpu'] });
      assert.equal(await workOf(old.id, stepIds), undefined);
      const blocked = await register(t, 'after-blocked', { pools: ['after'], groups: ['gpu'] });
      assert.equal(await workOf(blocked.id, stepIds), undefined);
      const free = await register(t, 'after-free', { pools: ['after'], groups: ['gpu'] });
      assert.equal((await workOf(free.id, stepIds))?.job.id, steps.render.id);

      // New dependencies hold back the step that starts the family; the other keeps its own.
      const next = expectStatus(
        await submitTemplate({ parameters: { OutputDir: '/tmp/out', Frames: '1' } }),
        201,
      ).body;
      expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${next.id}`, { dependencies: [parent.id] }),
        200,
      );
      const held = await stepsOf(next.id);
      const render = await getJob(t, held.render.id);
      assert.deepEqual(render.dependencies, [parent.id]);
      assert.equal(render.state, 'PENDING');
      assert.equal(render.pendReason, 'DEPENDENCIES');
      assert.deepEqual((await getJob(t, held.encode.id)).dependencies, [held.render.id]);
      assert.equal((await getJob(t, next.id)).state, 'PENDING');
    });

    it("a parent's schedule reaches its steps, at submission and when changed", async () => {
      const later = Date.now() + 3_600_000;
      const parent = expectStatus(
        await submitTemplate({
          parameters: { OutputDir: '/tmp/out', Frames: '1-2' },
          scheduledAt: new Date(later).toISOString(),
        }),
        201,
      ).body;
      // The parent shows the schedule but waits for no event of its own: its steps do.
      assert.equal(parent.schedule.kind, 'once');
      assert.equal(parent.nextScheduleAt, null);
      assert.equal(parent.state, 'PENDING');
      let { render, encode } = await stepsOf(parent.id);
      render = await getJob(t, render.id);
      assert.equal(render.state, 'PENDING');
      assert.equal(render.pendReason, 'SCHEDULE');
      assert.equal(Date.parse(render.nextScheduleAt), later);
      encode = await getJob(t, encode.id);
      assert.equal(encode.schedule.kind, 'once');
      assert.equal(encode.pendReason, 'DEPENDENCIES');

      // Removing it releases the step that starts the family, in the same request.
      expectStatus(await t.request('PATCH', `/api/v1/jobs/${parent.id}`, { schedule: null }), 200);
      render = await getJob(t, render.id);
      assert.equal(render.state, 'QUEUED');
      assert.equal(render.schedule, null);
      assert.equal((await getJob(t, encode.id)).schedule, null);
      assert.equal((await getJob(t, parent.id)).state, 'QUEUED');

      // A window that is closed now: the step queued and untouched waits for it again.
      const changed = expectStatus(
        await t.request('PATCH', `/api/v1/jobs/${parent.id}`, {
          schedule: {
            kind: 'once',
            start: new Date(later).toISOString(),
            stop: new Date(later + 60_000).toISOString(),
          },
        }),
        200,
      ).body;
      assert.equal(changed.schedule.kind, 'once');
      assert.equal(changed.nextScheduleAt, null);
      render = await getJob(t, render.id);
      assert.equal(render.state, 'PENDING');
      assert.equal(render.pendReason, 'SCHEDULE');
      assert.equal(render.schedule.stop, new Date(later + 60_000).toISOString());
      const stepSchedule = (await getJob(t, encode.id)).schedule;
      assert.equal(stepSchedule.kind, 'once');
      assert.equal((await getJob(t, parent.id)).state, 'PENDING');
      // No node gets work of a step waiting for its window.
      const node = await register(t, 'schedule-node');
      assert.equal(await workOf(node.id, [render.id, encode.id]), undefined);
    });
  });
}
