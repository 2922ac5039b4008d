import type { Command } from 'commander';
import { ApiError, CliError } from './api-client.js';
import {
  action,
  clientOf,
  commaList,
  commonFlags,
  err,
  optionParser,
  out,
  parseId,
  parseInteger,
  printJson,
  withClientOptions,
} from './command-support.js';
import { details, elapsed, table, timestamp, type Column } from './format.js';
import { jsonPrinter, printLog, textPrinter } from './logs.js';
import type { Execution, Page, Task } from './resources.js';
import { executionColumns, nodeNames } from './show.js';
import {
  describeTaskSet,
  parseTaskIndex,
  parseTaskSet,
  taskByIndex,
  tasksByIndex,
} from './task-selection.js';

/*
 * `drover task list|show|logs` and `drover task suspend|resume|requeue|complete|fail JOB TASKS`.
 * Tasks are named by their index in the job, as every table shows them. The native API acts
 * on one task a request (POST /tasks/:id/:action), so an action on a range is one request a
 * task, each reported: the summary counts what was done and what was refused.
 */

const TASK_STATES = ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED'];
/** Refusals printed one a line; past this they are counted (--json lists them all). */
const FAILURES_SHOWN = 20;

const taskColumns = (names: Map<number, string>): Column<Task>[] => [
  { header: 'TASK', value: (t) => t.index, right: true },
  { header: 'FRAMES', value: (t) => t.frames || '-' },
  { header: 'STATE', value: (t) => t.state },
  { header: 'TRIES', value: (t) => t.tries, right: true },
  { header: 'PROGRESS', value: (t) => `${Math.floor(t.progress)}%`, right: true },
  { header: 'NODE', value: (t) => (t.nodeId === null ? '-' : (names.get(t.nodeId) ?? t.nodeId)) },
  { header: 'DURATION', value: (t) => elapsed(t.startedAt, t.endedAt), right: true },
];

interface TaskActionSpec {
  name: 'suspend' | 'resume' | 'requeue' | 'complete' | 'fail';
  summary: string;
  done: string;
}

export const TASK_ACTION_COMMANDS: readonly TaskActionSpec[] = [
  { name: 'suspend', summary: 'suspend tasks (a running one is stopped)', done: 'suspended' },
  { name: 'resume', summary: 'resume suspended tasks', done: 'resumed' },
  {
    name: 'requeue',
    summary: 'queue tasks again with their tries forgotten (a running one is stopped)',
    done: 'requeued',
  },
  { name: 'complete', summary: 'mark tasks completed', done: 'completed' },
  { name: 'fail', summary: 'mark tasks failed', done: 'failed' },
];

type Result =
  | { task: number; id: number; ok: true; state: string }
  | { task: number; id: number; ok: false; error: { code: string; message: string } };

interface ListFlags {
  state?: string[];
  limit: number;
  offset?: number;
}

function states(given: readonly string[] | undefined): string[] | undefined {
  if (!given) return undefined;
  return given.map((s) => {
    const state = s.toUpperCase();
    if (!TASK_STATES.includes(state)) {
      throw new CliError(
        `"${s}" is not a task state; use ${TASK_STATES.map((x) => x.toLowerCase()).join(', ')}`,
      );
    }
    return state;
  });
}

function registerList(task: Command): void {
  withClientOptions(
    task
      .command('list')
      .summary("list a job's tasks")
      .description("List a job's tasks in index order: frames, state, tries, node and duration.")
      .argument('<job>', 'job id'),
  )
    .option(
      '--state <states>',
      'only tasks in these states (comma list: failed,running,…)',
      commaList,
    )
    .option(
      '--limit <n>',
      'show at most n tasks (1-1000)',
      optionParser(parseInteger('--limit', 1)),
      1000,
    )
    .option('--offset <n>', 'skip the first n tasks', optionParser(parseInteger('--offset', 0)))
    .action(
      action(async (jobText: string, flags: ListFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const jobId = parseId(jobText);
        const page = await client.get<Page<Task>>(`/jobs/${jobId}/tasks`, {
          state: states(flags.state),
          limit: Math.min(flags.limit, 1000),
          offset: flags.offset,
        });
        if (common.json) return printJson(page.items);
        if (page.items.length === 0) {
          const which = flags.state ? ` ${flags.state.join(' or ').toLowerCase()}` : '';
          out(
            page.total === 0
              ? `job ${jobId} has no${which} tasks\n`
              : `no tasks past offset ${page.offset} (${page.total} in all)\n`,
          );
          return;
        }
        out(table(taskColumns(await nodeNames(client)), page.items));
        const shown = page.offset + page.items.length;
        if (page.offset > 0 || shown < page.total) {
          out(
            `tasks ${page.offset + 1}-${shown} of ${page.total}; see more with --limit or --offset\n`,
          );
        }
      }),
    );
}

function registerShow(task: Command): void {
  withClientOptions(
    task
      .command('show')
      .summary('show one task')
      .description('Show one task of a job (by its index) and its executions.')
      .argument('<job>', 'job id')
      .argument('<task>', 'task index'),
  ).action(
    action(async (jobText: string, taskText: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const jobId = parseId(jobText);
      const t = await taskByIndex(client, jobId, parseTaskIndex(taskText));
      const [executions, names] = await Promise.all([
        client.all<Execution>('/executions', { task: t.id }, 1000, 1000),
        nodeNames(client),
      ]);
      if (common.json) return printJson({ task: t, executions });
      out(
        details([
          ['Task', `${t.index} of job ${jobId} (task id ${t.id})`],
          ['Frames', t.frames || undefined],
          ['State', t.state],
          ['Tries', t.tries],
          ['Progress', `${Math.floor(t.progress)}%`],
          ['Status', t.statusMessage],
          ['Node', t.nodeId === null ? undefined : (names.get(t.nodeId) ?? `node ${t.nodeId}`)],
          ['Started', t.startedAt ? timestamp(t.startedAt) : undefined],
          ['Ended', t.endedAt ? timestamp(t.endedAt) : undefined],
          ['Duration', t.startedAt ? elapsed(t.startedAt, t.endedAt) : undefined],
          ['Last change', timestamp(t.lastStatusChange)],
        ]),
      );
      if (executions.length > 0) {
        out(`\nExecutions (${executions.length})\n`);
        out(table(executionColumns(names, new Map([[t.id, t.index]])), executions));
      }
    }),
  );
}

interface TaskLogsFlags {
  execution?: number;
  headers: boolean;
}

function registerLogs(task: Command): void {
  withClientOptions(
    task
      .command('logs')
      .summary("print one task's log")
      .description(
        "Print the log of a task's latest execution, or of --execution N (an id from `drover task show`).\n" +
          'stdout lines go to stdout; stderr and worker lines to stderr.',
      )
      .argument('<job>', 'job id')
      .argument('<task>', 'task index'),
  )
    .option(
      '--execution <id>',
      'this execution of the task instead of the latest',
      optionParser(parseInteger('--execution', 1)),
    )
    .option('--no-headers', 'leave out the line that heads the log')
    .action(
      action(async (jobText: string, taskText: string, flags: TaskLogsFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const jobId = parseId(jobText);
        const t = await taskByIndex(client, jobId, parseTaskIndex(taskText));
        const executionId = flags.execution ?? t.lastExecutionId;
        if (executionId === null) {
          err(`task ${t.index} of job ${jobId} has not started yet: it has no log\n`);
          return;
        }
        const execution = await client.get<Execution>(`/executions/${executionId}`);
        if (execution.taskId !== t.id) {
          const own = await client.all<Execution>('/executions', { task: t.id }, 1000, 1000);
          const ids = own.map((e) => e.id).join(', ');
          throw new CliError(
            `execution ${executionId} is not one of task ${t.index} of job ${jobId}; ${ids ? `its executions are ${ids}` : 'it has none'}`,
          );
        }
        const printer = common.json
          ? jsonPrinter
          : textPrinter(flags.headers, flags.headers ? await nodeNames(client) : new Map());
        printer.header(t, execution);
        await printLog(client, printer, t, execution);
      }),
    );
}

function registerAction(task: Command, spec: TaskActionSpec): void {
  withClientOptions(
    task
      .command(spec.name)
      .summary(spec.summary)
      .description(
        `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}. TASKS is an index (4), a range (3-7) or a list (1,4,9-12), at most 10,000 tasks; exits 1 if any task could not be ${spec.done}.`,
      )
      .argument('<job>', 'job id')
      .argument('<tasks>', 'task indexes: 4, 3-7 or 1,4,9-12'),
  ).action(
    action(async (jobText: string, tasksText: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const jobId = parseId(jobText);
      const tasks = await tasksByIndex(client, jobId, parseTaskSet(tasksText));
      const results: Result[] = [];
      for (const t of tasks) {
        try {
          const after = await client.post<Task>(`/tasks/${t.id}/${spec.name}`);
          results.push({ task: t.index, id: t.id, ok: true, state: after.state });
        } catch (error) {
          // Only the server's refusals are per task; an unreachable server stops here.
          if (!(error instanceof ApiError)) throw error;
          results.push({
            task: t.index,
            id: t.id,
            ok: false,
            error: { code: error.code, message: error.message },
          });
        }
      }
      const failed = results.filter((r) => !r.ok);
      if (common.json) {
        printJson(results);
        return failed.length ? 1 : 0;
      }
      for (const r of failed.slice(0, FAILURES_SHOWN)) {
        err(`drover: job ${jobId} task ${r.task}: ${r.ok ? '' : r.error.message}\n`);
      }
      if (failed.length > FAILURES_SHOWN) {
        err(`drover: … and ${failed.length - FAILURES_SHOWN} more refused (--json lists them)\n`);
      }
      const done = results.filter((r) => r.ok).map((r) => r.task);
      const word = (n: number) => (n === 1 ? 'task' : 'tasks');
      const line =
        failed.length === 0
          ? `job ${jobId}: ${done.length} ${word(done.length)} ${spec.done} (${describeTaskSet(done)})`
          : `job ${jobId}: ${done.length} of ${results.length} ${word(results.length)} ${spec.done}${done.length ? ` (${describeTaskSet(done)})` : ''}; ${failed.length} refused (${describeTaskSet(failed.map((r) => r.task))})`;
      out(`${line}\n`);
      return failed.length ? 1 : 0;
    }),
  );
}

export function registerTaskCommand(program: Command): void {
  const task = program
    .command('task')
    .summary('list, show, read and act on the tasks of a job')
    .description(
      'The tasks of a job, named by their index as `drover task list` shows them (from 0).\n' +
        'The actions take TASKS as an index (4), a range (3-7) or a list (1,4,9-12).',
    );
  registerList(task);
  registerShow(task);
  registerLogs(task);
  for (const spec of TASK_ACTION_COMMANDS) registerAction(task, spec);
}
