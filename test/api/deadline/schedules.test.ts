/* eslint-disable @typescript-eslint/no-explicit-any -- black-box tests read arbitrary JSON bodies */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  expectDeadlineError,
  expectSuccess,
  nativeJob,
  startDeadlineTestServer,
  submitDeadline,
  type DeadlineTestServer,
} from './support.js';

/*
 * Deadline's job scheduling: JobInfo ScheduledType Once, Daily and Custom with their keys
 * become the engine's schedule, the Props Schd … SunStop show it, and a `save` of them
 * changes it. The server runs in this process, in this time zone.
 */
process.env.TZ = 'Europe/Berlin';

const UNSET_TIMESPAN = '-10675199.02:48:05.4775808';
const UNSET_DATE = '0001-01-01T00:00:00Z';
const local = (y: number, mo: number, d: number, h = 0, min = 0): number =>
  new Date(y, mo - 1, d, h, min).getTime();
const iso = (ms: number) => new Date(ms).toISOString();
const DAY_PROPS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].flatMap((d) => [
  `${d}Start`,
  `${d}Stop`,
]);

for (const database of TEST_DATABASES) {
  describe(`Deadline: job scheduling (${database.name})`, () => {
    let t: DeadlineTestServer;
    const doc = async (id: string) => (await t.dl('GET', `/api/jobs?JobID=${id}`)).body[0];
    const save = (job: any) => t.dl('PUT', '/api/jobs', { Command: 'save', Job: job });
    const post = (jobInfo: Record<string, unknown>) =>
      t.dl('POST', '/api/jobs', {
        JobInfo: { Plugin: 'CommandLine', Frames: '1-2', ...jobInfo },
        PluginInfo: { Executable: '/bin/echo' },
        AuxFiles: [],
      });
    before(async () => {
      t = await startDeadlineTestServer(database);
      t.clock.now = local(2026, 1, 5, 8); // a Monday
    });
    after(async () => {
      await t?.close();
    });

    it('None: Schd 0, SchdDate the submission time, the day times unset', async () => {
      const job = await submitDeadline(t, { Name: 'plain' });
      assert.equal(job.Props.Schd, 0);
      assert.equal(job.Props.SchdDays, 1);
      assert.equal(job.Props.SchdDate, job.Date);
      assert.equal(job.Props.SchdStop, UNSET_DATE);
      for (const key of DAY_PROPS) assert.equal(job.Props[key], UNSET_TIMESPAN, key);
      assert.equal((await nativeJob(t, job._id)).schedule, null);
    });

    it('Once with a stop: pending until the start, active, suspended at the stop', async () => {
      const job = await submitDeadline(t, {
        Name: 'once',
        ScheduledType: 'Once',
        ScheduledStartDateTime: '05/01/2026 10:30',
        ScheduledStopDateTime: '05/01/2026 12:00',
      });
      assert.equal(job.Stat, 6, 'Pending');
      assert.equal(job.Props.Schd, 1);
      assert.equal(job.Props.SchdDate, iso(local(2026, 1, 5, 10, 30)));
      assert.equal(job.Props.SchdStop, iso(local(2026, 1, 5, 12)));
      assert.equal(job.ExtraElements, null, 'every scheduling key is known');
      assert.deepEqual((await nativeJob(t, job._id)).schedule, {
        kind: 'once',
        start: iso(local(2026, 1, 5, 10, 30)),
        stop: iso(local(2026, 1, 5, 12)),
      });

      t.clock.now = local(2026, 1, 5, 10, 30);
      await t.engine.reaper.tick();
      assert.equal((await doc(job._id)).Stat, 1, 'Active');
      t.clock.now = local(2026, 1, 5, 12);
      await t.engine.reaper.tick();
      const stopped = await doc(job._id);
      assert.equal(stopped.Stat, 2, 'Suspended');
      assert.equal(stopped.SuspendedChunks, 1);
    });

    it('Daily every ScheduledDays days, with the stop time of ScheduledStopDateTime', async () => {
      t.clock.now = local(2026, 1, 12, 8);
      const job = await submitDeadline(t, {
        Name: 'daily',
        ScheduledType: 'Daily',
        ScheduledStartDateTime: '12/01/2026 20:00',
        ScheduledStopDateTime: '13/01/2026 06:00',
        ScheduledDays: '2',
      });
      assert.equal(job.Stat, 6);
      assert.equal(job.Props.Schd, 2);
      assert.equal(job.Props.SchdDays, 2);
      assert.equal(job.Props.SchdDate, iso(local(2026, 1, 12, 20)));
      assert.equal(job.Props.SchdStop, iso(local(2026, 1, 13, 6)));
      assert.deepEqual((await nativeJob(t, job._id)).schedule, {
        kind: 'daily',
        startDate: '2026-01-12',
        startTime: '20:00',
        stopTime: '06:00',
        everyDays: 2,
      });
      const stats: number[] = [];
      for (const at of [
        local(2026, 1, 12, 20),
        local(2026, 1, 13, 6),
        local(2026, 1, 13, 20),
        local(2026, 1, 14, 20),
      ]) {
        t.clock.now = at;
        await t.engine.reaper.tick();
        stats.push((await doc(job._id)).Stat);
      }
      assert.deepEqual(stats, [1, 2, 2, 1], 'active, suspended, (not a day), active again');
    });

    it('Custom: <Day>StartTime and <Day>StopTime as TimeSpans', async () => {
      t.clock.now = local(2026, 1, 19, 8); // a Monday
      const job = await submitDeadline(t, {
        Name: 'custom',
        ScheduledType: 'Custom',
        MondayStartTime: '09:00:00',
        MondayStopTime: '17:30',
        FridayStartTime: '19:00:00',
        SundayStopTime: '23:00:00',
        TuesdayStartTime: UNSET_TIMESPAN,
      });
      assert.equal(job.Stat, 6);
      assert.equal(job.Props.Schd, 3);
      assert.equal(job.Props.MonStart, '09:00:00');
      assert.equal(job.Props.MonStop, '17:30:00');
      assert.equal(job.Props.FriStart, '19:00:00');
      assert.equal(job.Props.SunStop, '23:00:00');
      assert.equal(job.Props.TueStart, UNSET_TIMESPAN);
      assert.equal(job.Props.SchdStop, UNSET_DATE);
      assert.equal(job.ExtraElements, null);
      assert.deepEqual((await nativeJob(t, job._id)).schedule, {
        kind: 'custom',
        days: {
          mon: { start: '09:00', stop: '17:30' },
          fri: { start: '19:00' },
          sun: { stop: '23:00' },
        },
      });
      t.clock.now = local(2026, 1, 19, 9);
      await t.engine.reaper.tick();
      assert.equal((await doc(job._id)).Stat, 1);
    });

    it('refuses bad scheduling keys with a 400 that says what to fix', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ ScheduledType: 'Weekly' }, /ScheduledType must be None, Once, Daily or Custom/],
        [{ ScheduledType: 'Once' }, /ScheduledStartDateTime must be set \(dd\/MM\/yyyy HH:mm\)/],
        [
          { ScheduledType: 'Once', ScheduledStartDateTime: '31/02/2026 10:00' },
          /ScheduledStartDateTime "31\/02\/2026 10:00" is not a date/,
        ],
        [
          {
            ScheduledType: 'Once',
            ScheduledStartDateTime: '06/01/2026 10:00',
            ScheduledStopDateTime: '06/01/2026 09:00',
          },
          /ScheduledStopDateTime must be after JobInfo ScheduledStartDateTime/,
        ],
        [
          { ScheduledType: 'Daily', ScheduledStartDateTime: '06/01/2026 10:00', ScheduledDays: 0 },
          /ScheduledDays must be a whole number of at least 1/,
        ],
        [{ ScheduledType: 'Custom' }, /start time on at least one day/],
        [
          { ScheduledType: 'Custom', MondayStartTime: '9 am' },
          /MondayStartTime "9 am" is not a time of day/,
        ],
      ];
      for (const [jobInfo, message] of cases) {
        expectDeadlineError(await post(jobInfo), 400, message);
      }
    });

    it('save: the schedule Props change the schedule; the same Props again change nothing', async () => {
      t.clock.now = local(2026, 1, 26, 8); // a Monday
      const job = await submitDeadline(t, { Name: 'to schedule' });
      let saved = await doc(job._id);
      assert.equal(saved.Stat, 1);

      // Daily from tomorrow 20:00 to 22:00, every 3 days, as a client edits the document.
      saved.Props.Schd = 2;
      saved.Props.SchdDays = 3;
      saved.Props.SchdDate = iso(local(2026, 1, 27, 20));
      saved.Props.SchdStop = iso(local(2026, 1, 27, 22));
      expectSuccess(await save(saved));
      saved = await doc(job._id);
      assert.equal(saved.Stat, 6, 'an untouched job waits for its window');
      assert.equal(saved.Props.Schd, 2);
      assert.equal(saved.Props.SchdDays, 3);
      assert.equal(saved.Props.SchdDate, iso(local(2026, 1, 27, 20)));
      assert.equal(saved.Props.SchdStop, iso(local(2026, 1, 27, 22)));
      const native = await nativeJob(t, job._id);
      assert.deepEqual(native.schedule, {
        kind: 'daily',
        startDate: '2026-01-27',
        startTime: '20:00',
        stopTime: '22:00',
        everyDays: 3,
      });

      // The document sent back as fetched leaves the schedule alone.
      expectSuccess(await save(saved));
      assert.deepEqual((await nativeJob(t, job._id)).schedule, native.schedule);

      // Custom through the day Props: a window open now releases it.
      saved.Props.Schd = 3;
      saved.Props.MonStart = '07:00:00';
      expectSuccess(await save(saved));
      saved = await doc(job._id);
      assert.equal(saved.Stat, 1);
      assert.equal(saved.Props.MonStart, '07:00:00');
      assert.deepEqual((await nativeJob(t, job._id)).schedule, {
        kind: 'custom',
        days: { mon: { start: '07:00' } },
      });

      expectDeadlineError(
        await save({ ...saved, Props: { ...saved.Props, Schd: 7 } }),
        400,
        /Props.Schd must be 0 \(None\), 1 \(Once\), 2 \(Daily\) or 3 \(Custom\)/,
      );
      expectDeadlineError(
        await save({ ...saved, Props: { ...saved.Props, MonStop: 'late' } }),
        400,
        /Props.MonStop "late" is not a time of day/,
      );
      expectDeadlineError(
        await save({
          ...saved,
          Props: {
            ...saved.Props,
            Schd: 1,
            SchdDate: iso(local(2026, 1, 27, 20)),
            SchdStop: iso(local(2026, 1, 27, 19)),
          },
        }),
        400,
        /Props.SchdStop must be after Props.SchdDate/,
      );
      assert.equal((await doc(job._id)).Props.Schd, 3, 'a refused save changes nothing');

      saved.Props.Schd = 0;
      expectSuccess(await save(saved));
      saved = await doc(job._id);
      assert.equal(saved.Props.Schd, 0);
      assert.equal(saved.Props.MonStart, UNSET_TIMESPAN);
      assert.equal((await nativeJob(t, job._id)).schedule, null);
    });

    it('a schedule set through the native API shows in the Props', async () => {
      t.clock.now = local(2026, 2, 2, 8);
      const job = await submitDeadline(t, { Name: 'native' });
      const res = await t.request('PATCH', `/api/v1/jobs/${parseInt(job._id, 16)}`, {
        schedule: { kind: 'custom', days: { sat: { start: '08:15:30', stop: '20:00' } } },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const shown = await doc(job._id);
      assert.equal(shown.Props.Schd, 3);
      assert.equal(shown.Props.SatStart, '08:15:30');
      assert.equal(shown.Props.SatStop, '20:00:00');
      assert.equal(shown.Stat, 6);
    });

    it("save of a multi-step job's schedule: every step follows it", async () => {
      t.clock.now = local(2026, 2, 9, 8); // a Monday
      const res = await t.request('POST', '/api/v1/jobs', {
        template: {
          specificationVersion: 'jobtemplate-2023-09',
          name: 'steps',
          steps: ['A', 'B'].map((name, i) => ({
            name,
            ...(i > 0 ? { dependencies: [{ dependsOn: 'A' }] } : {}),
            script: { actions: { onRun: { command: 'true' } } },
          })),
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const parentId = res.body.id as number;
      const steps = (await t.request('GET', `/api/v1/jobs?parent=${parentId}`)).body.items as any[];
      const first = steps.find((s) => s.childName === 'A');
      assert.equal(first.state, 'QUEUED');

      // Once, tomorrow 20:00 to 22:00, saved on the Deadline job the parent shows as.
      const saved = await doc(parentId.toString(16).padStart(24, '0'));
      saved.Props.Schd = 1;
      saved.Props.SchdDate = iso(local(2026, 2, 10, 20));
      saved.Props.SchdStop = iso(local(2026, 2, 10, 22));
      expectSuccess(await save(saved));
      for (const step of steps) {
        const native = (await t.request('GET', `/api/v1/jobs/${step.id}`)).body;
        assert.deepEqual(
          native.schedule,
          { kind: 'once', start: iso(local(2026, 2, 10, 20)), stop: iso(local(2026, 2, 10, 22)) },
          step.childName,
        );
      }
      const held = (await t.request('GET', `/api/v1/jobs/${first.id}`)).body;
      assert.equal(held.state, 'PENDING');
      assert.equal(held.pendReason, 'SCHEDULE');
      const shown = await doc(saved._id);
      assert.equal(shown.Props.Schd, 1);
      assert.equal(shown.Stat, 6, 'the parent is pending with its steps');
    });
  });
}
