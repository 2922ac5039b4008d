import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EngineContext } from '../../engine/context.js';
import { endedExecutionsOfJob } from '../../store/executions.js';
import { findJobType } from '../../store/job-types.js';
import type { JobRow } from '../../store/schema.js';
import { findTaskByIndex } from '../../store/tasks.js';
import type { DeadlineContext } from './context.js';
import { deadlineDataOf, dialectOf } from './dialect-data.js';
import { badRequest, serverError } from './errors.js';
import { jobHistory } from './history-json.js';
import { fromDeadlineId, toDeadlineId } from './ids.js';
import { jobOf } from './job-lookup.js';
import { pluginOfType } from './plugins.js';
import { reportContents } from './report-contents.js';
import { renderReport, reportTypeOf } from './report-json.js';
import { queryOf } from './request-body.js';
import { REPORT_TYPE } from './state-mapping.js';
import { asInt } from './values.js';

/*
 * /api/taskreports (the reports of one task: JobID and TaskID) and /api/jobreports (of a
 * whole job: JobID), GET only, as the Standalone Python API's TaskReports and JobReports
 * send them. Every ended execution is a report (report-json.ts); `Data` picks the kind, and
 * the `…contents` values answer each report's text instead of its document. A list is a
 * JSON array, oldest report first, and `[]` when there is none: Deadline's docs speak of "a
 * message" then, whose text is unknown, and typed clients (the Go client) need an array.
 */

const { LOG, ERROR, REQUEUE } = REPORT_TYPE;
const ALL = [LOG, ERROR, REQUEUE];

interface Selection {
  types: number[];
  contents: boolean;
}

/** Data values of both routes (TaskReports.py and JobReports.py). */
const LISTS: Record<string, Selection> = {
  all: { types: ALL, contents: false },
  error: { types: [ERROR], contents: false },
  log: { types: [LOG], contents: false },
  requeue: { types: [REQUEUE], contents: false },
  allcontents: { types: ALL, contents: true },
  allerrorcontents: { types: [ERROR], contents: true },
  alllogcontents: { types: [LOG], contents: true },
  allrequeuecontents: { types: [REQUEUE], contents: true },
};

/** Data values of /api/jobreports that name one report by ReportID. */
const ONE_REPORT: Record<string, number> = {
  errorcontents: ERROR,
  logcontents: LOG,
  requeuecontents: REQUEUE,
};

const KIND_NAME: Record<number, string> = { [LOG]: 'log', [ERROR]: 'error', [REQUEUE]: 'requeue' };

const TASK_DATA = Object.keys(LISTS);
const JOB_DATA = [...TASK_DATA, 'history', ...Object.keys(ONE_REPORT)];

function dataOf(q: (key: string) => string | undefined, allowed: string[]): string {
  const text = q('Data')?.trim() ?? '';
  if (text === '') return 'all';
  const data = text.toLowerCase();
  if (!allowed.includes(data)) {
    throw badRequest(`"${text}" is not a valid Data value; use one of ${allowed.join(', ')}.`);
  }
  return data;
}

function requireJobId(q: (key: string) => string | undefined): string {
  const text = q('JobID');
  if (!text?.trim()) throw badRequest('There was no JobID provided.');
  return text;
}

/** The plugin the job document shows (its `Plug`). */
async function pluginOf(ctx: EngineContext, job: JobRow): Promise<string> {
  const submitted = deadlineDataOf(dialectOf(job))?.plugin;
  if (submitted) return submitted;
  return pluginOfType((await findJobType(ctx.db, job.job_type_id))?.name ?? 'unknown');
}

async function reportsOf(
  ctx: EngineContext,
  job: JobRow,
  selection: Selection,
  taskIndex?: number,
): Promise<unknown[]> {
  const executions = (
    await endedExecutionsOfJob(ctx.db, job.id, taskIndex === undefined ? {} : { taskIndex })
  ).filter((e) => selection.types.includes(reportTypeOf(e)));
  if (selection.contents) {
    const texts: string[] = [];
    for (const execution of executions) texts.push(await reportContents(ctx.db, execution));
    return texts;
  }
  const plugin = await pluginOf(ctx, job);
  return executions.map((e) => renderReport(e, job, plugin));
}

/** The text of one report of the job, named by its `_id` and of the kind Data names. */
async function oneReport(
  ctx: EngineContext,
  job: JobRow,
  reportText: string | undefined,
  type: number,
): Promise<string> {
  if (!reportText?.trim()) throw badRequest('There was no ReportID provided.');
  const id = fromDeadlineId(reportText);
  const [execution] =
    id === undefined ? [] : await endedExecutionsOfJob(ctx.db, job.id, { executionId: id });
  if (!execution || reportTypeOf(execution) !== type) {
    throw serverError(
      `Report ID provided does not correspond to a ${KIND_NAME[type]} report of job ${toDeadlineId(job.id)}: ${reportText}`,
    );
  }
  return reportContents(ctx.db, execution);
}

export function reportRoutes(dc: DeadlineContext) {
  const ctx = dc.engine.ctx;
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/taskreports', async (request) => {
      const q = queryOf(request);
      const jobText = requireJobId(q);
      const taskText = q('TaskID')?.trim();
      if (!taskText) throw badRequest('There was no TaskID provided.');
      const index = asInt(taskText);
      if (index === undefined || index < 0) {
        throw badRequest(`"${taskText}" is not a task ID (a whole number).`);
      }
      const selection = LISTS[dataOf(q, TASK_DATA)]!;
      const job = await jobOf(ctx, jobText);
      if (!(await findTaskByIndex(ctx.db, job.id, index))) {
        throw badRequest(`Job ${toDeadlineId(job.id)} has no task ${index}.`);
      }
      return reportsOf(ctx, job, selection, index);
    });

    app.get('/api/jobreports', async (request, reply) => {
      const q = queryOf(request);
      const jobText = requireJobId(q);
      const data = dataOf(q, JOB_DATA);
      const job = await jobOf(ctx, jobText);
      if (data === 'history') return jobHistory(ctx, job);
      const one = ONE_REPORT[data];
      if (one !== undefined) {
        // A JSON string: the Python client turns raw line breaks into spaces, escaped ones it keeps.
        const text = await oneReport(ctx, job, q('ReportID'), one);
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(text));
      }
      return reportsOf(ctx, job, LISTS[data]!);
    });

    const notImplemented = async (_request: unknown, reply: FastifyReply) =>
      reply
        .status(501)
        .type('text/plain; charset=utf-8')
        .send('Error: reports are written by the workers; only GET is implemented.');
    for (const path of ['/api/taskreports', '/api/jobreports']) {
      app.post(path, notImplemented);
      app.put(path, notImplemented);
      app.delete(path, notImplemented);
    }
  };
}
