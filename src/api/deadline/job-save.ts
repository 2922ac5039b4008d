import { priorityFromDeadline } from '../../domain/priority.js';
import type { Principal } from '../../engine/accounts/accounts.js';
import { assertMayChangeJob, assertMayProtectJob } from '../../engine/accounts/permissions.js';
import { updateJobSettings, type JobChanges } from '../../engine/jobs/job-actions.js';
import { findJobType } from '../../store/job-types.js';
import { nodeListOf } from '../../store/jobs.js';
import type { JobRow } from '../../store/schema.js';
import type { DeadlineContext } from './context.js';
import { deadlineDataOf, dialectOf, withDeadline, type DialectData } from './dialect-data.js';
import { badRequest, DeadlineError } from './errors.js';
import { fromNone, onCompleteOf, onTaskTimeoutOf } from './job-info.js';
import { renderJob } from './job-json.js';
import { jobOf } from './job-lookup.js';
import { jobViews } from './job-views.js';
import { pluginParameters } from './plugins.js';
import { dependencyIdsOf, sameIds, samePlugInfo } from './saved-dep-plug-info.js';
import { SCHEDULE_PROPS, scheduleOfProps } from './schedule.js';
import { ON_TIMEOUT_CODES, TIMEOUT_ACTION_OF } from './state-mapping.js';
import { asBool, asInt, asList, asNumber, asString, isRecord } from './values.js';

/*
 * PUT /api/jobs {"Command": "save", "Job": {…}}: Monitor's job properties saved back. The
 * props the engine holds (name, priority, pool, limits, timeouts…) become one change of the
 * job's settings; the rest are kept in the job's Deadline data, so that the next read shows
 * what was saved.
 */

/** Props that the engine holds, and how a saved value changes it. */
const HELD: Record<string, (v: unknown, c: JobChanges) => void> = {
  Name: (v, c) => {
    const s = asString(v);
    if (s?.trim()) c.name = s;
  },
  Cmmt: (v, c) => (c.comment = asString(v) ?? ''),
  Dept: (v, c) => (c.department = asString(v) ?? ''),
  Pri: (v, c) => {
    const n = asInt(v);
    if (n === undefined || n < 0) throw badRequest('Props.Pri must be a whole number.');
    c.priority = priorityFromDeadline(n);
  },
  Pool: (v, c) => (c.pool = fromNone(asString(v) ?? '') ?? ''),
  Grp: (v, c) => (c.group = fromNone(asString(v) ?? '') ?? ''),
  MachLmt: (v, c) => {
    const n = asInt(v);
    if (n === undefined || n < 0) throw badRequest('Props.MachLmt must be a whole number.');
    c.machineLimit = n;
  },
  MaxTime: (v, c) => {
    const n = asNumber(v);
    if (n === undefined || n < 0) throw badRequest('Props.MaxTime must be a number of seconds.');
    c.taskTimeout = Math.ceil(n);
  },
  Limits: (v, c) => {
    c.limits = asList(v);
    c.acceptUnknownLimits = true;
  },
  Protect: (v, c) => {
    const b = asBool(v);
    if (b === undefined) throw badRequest('Props.Protect must be true or false.');
    c.protected = b;
  },
};
/** Props that describe the job's shape or history: a save cannot change them. */
const READ_ONLY = new Set(['Frames', 'Chunk', 'Tasks', 'User']);

export async function saveCommand(
  dc: DeadlineContext,
  principal: Principal | undefined,
  body: Record<string, unknown>,
): Promise<undefined> {
  const ctx = dc.engine.ctx;
  const doc = body.Job;
  if (!isRecord(doc))
    throw badRequest('There was no Job entry in the JSON object in the message body.');
  if (doc._id === undefined) throw badRequest('The Job entry has no _id.');
  const job = await jobOf(ctx, doc._id);
  await assertMayChangeJob(ctx, principal, job.id);
  const props = isRecord(doc.Props) ? doc.Props : {};
  const [view] = await jobViews(ctx, [job]);
  const shown = renderJob(view!).Props as Record<string, unknown>;
  const changes: JobChanges = {};
  const saved: Record<string, unknown> = {};
  let onComplete: DialectData['onComplete'];
  let plugInfo: Record<string, unknown> | undefined;
  let scheduleChanged = false;
  for (const [key, value] of Object.entries(props)) {
    if (!(key in shown) || READ_ONLY.has(key)) continue;
    if (SCHEDULE_PROPS.includes(key)) {
      // The engine holds the schedule; read whole once the loop has seen every Prop.
      scheduleChanged ||= JSON.stringify(shown[key]) !== JSON.stringify(value);
      continue;
    }
    if (key === 'Dep') {
      // Judged by the ids: the list sent back unchanged, in any form or order, is left alone.
      const ids = dependencyIdsOf(value);
      if (!sameIds(ids, view!.dependencies)) changes.dependencies = ids;
      continue;
    }
    if (key === 'PlugInfo') {
      if (!isRecord(value))
        throw badRequest('Props.PlugInfo must be an object of plugin settings.');
      if (!samePlugInfo(value, shown.PlugInfo as Record<string, unknown>)) plugInfo = value;
      continue;
    }
    if (JSON.stringify(shown[key]) === JSON.stringify(value)) continue;
    const held = HELD[key];
    if (held) held(value, changes);
    else if (key === 'OnComp') {
      try {
        onComplete = onCompleteOf(typeof value === 'string' ? value : asInt(value));
      } catch (error) {
        if (error instanceof DeadlineError) throw badRequest('Props.OnComp must be 0, 1 or 2.');
        throw error;
      }
    } else if (key === 'Timeout') {
      let onTimeout;
      try {
        onTimeout = onTaskTimeoutOf(
          typeof value === 'string' || typeof value === 'number' ? value : Number.NaN,
        );
      } catch (error) {
        if (error instanceof DeadlineError) throw badRequest('Props.Timeout must be 0, 1, 2 or 3.');
        throw error;
      }
      changes.taskTimeoutAction = TIMEOUT_ACTION_OF[onTimeout];
      // Kept only to tell Both (0) from Error (1); the engine holds the action.
      saved.Timeout = ON_TIMEOUT_CODES[onTimeout];
    } else if (key !== 'ListedSlaves' && key !== 'White') saved[key] = value;
  }
  if (scheduleChanged) {
    // What was sent over what is shown: Schd 2 alone makes the shown SchdDate daily.
    const merged = Object.fromEntries(
      SCHEDULE_PROPS.map((key) => [key, key in props ? props[key] : shown[key]]),
    );
    changes.schedule = scheduleOfProps(merged);
  }
  if (changes.protected !== undefined) {
    await assertMayProtectJob(ctx, principal, job.id, changes.protected);
  }
  if (plugInfo) {
    const type = await findJobType(ctx.db, job.job_type_id);
    if (type) changes.parameters = pluginParameters(type, plugInfo);
  }
  const listChanged =
    JSON.stringify(shown.ListedSlaves) !==
      JSON.stringify(props.ListedSlaves ?? shown.ListedSlaves) ||
    (props.White !== undefined && asBool(props.White) !== shown.White);
  if (listChanged) {
    await setMachineList(dc, job, {
      names: asList(props.ListedSlaves ?? shown.ListedSlaves),
      white: asBool(props.White ?? shown.White) === true,
      extra: changes,
      props: saved,
    });
  }
  await updateJobSettings(ctx, job.id, {
    ...(listChanged ? {} : changes),
    dialect: (current) => {
      const next = withDeadline(current as DialectData, (d) => {
        Object.assign(d.props, saved);
        // A job of another face shows its parameters as PlugInfo; only a Deadline job keeps it.
        if (plugInfo && d.plugin) d.pluginInfo = { ...plugInfo };
      });
      if (onComplete !== undefined) next.onComplete = onComplete;
      return next;
    },
  });
  return undefined;
}

/** Sets the listed workers and/or the allow-list flag, with other settings in one change. */
export async function setMachineList(
  dc: DeadlineContext,
  job: JobRow,
  change: {
    names?: string[];
    white?: boolean;
    extra?: JobChanges;
    props?: Record<string, unknown>;
  },
): Promise<void> {
  const ctx = dc.engine.ctx;
  const data = deadlineDataOf(dialectOf(job));
  const white =
    change.white ??
    (job.node_list_mode === 'ALLOW' ? true : job.node_list_mode === 'DENY' ? false : !!data?.white);
  const names = [...new Set(change.names ?? (await nodeListOf(ctx.db, job.id)))];
  await updateJobSettings(ctx, job.id, {
    ...change.extra,
    ...(white ? { allowList: names, denyList: [] } : { allowList: [], denyList: names }),
    dialect: (current) =>
      withDeadline(current as DialectData, (d) => {
        d.white = white;
        Object.assign(d.props, change.props ?? {});
      }),
  });
}
