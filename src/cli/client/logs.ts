import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { CliError, type ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  err,
  optionParser,
  out,
  parseId,
  parseInteger,
  withClientOptions,
} from './command-support.js';
import {
  FINAL_STATES,
  type Execution,
  type Job,
  type LogLine,
  type LogPage,
  type Task,
} from './resources.js';
import { printSessionLog } from './sessions.js';
import { nodeNames } from './show.js';

/*
 * `drover logs ID`: the logs of a job's tasks, in task order, each headed by the task, its
 * frames and the execution. stdout lines go to stdout, stderr lines to stderr, and the
 * worker's own lines to stderr marked `[worker] `, so `drover logs 7 > out.txt` keeps what
 * the command printed and a reader of stderr tells the command's words from the worker's. --follow long-polls the
 * server (GET /executions/:id/logs?follow=true) until the job ends.
 */

const PAGE = 1000;
const FOLLOW_WAIT_S = 25;
/** How often, in follow mode, to look for tasks that have started when none is live. */
const IDLE_POLL_MS = 1000;

interface LogsFlags {
  follow?: boolean;
  task?: number;
  allTries?: boolean;
  headers: boolean;
  session?: number;
}

export interface Printer {
  header(task: Task, execution: Execution): void;
  lines(task: Task, execution: Execution, lines: readonly LogLine[]): void;
}

export function textPrinter(headers: boolean, nodes: Map<number, string>): Printer {
  return {
    header(task, execution) {
      if (!headers) return;
      const frames = task.frames ? ` (frames ${task.frames})` : '';
      const node = nodes.get(execution.nodeId) ?? `node ${execution.nodeId}`;
      out(`==> task ${task.index}${frames} · execution ${execution.id} on ${node} <==\n`);
    },
    lines(_task, _execution, lines) {
      for (const l of lines) {
        if (l.stream === 'stdout') out(`${l.text}\n`);
        else if (l.stream === 'worker') err(`[worker] ${l.text}\n`);
        else err(`${l.text}\n`);
      }
    },
  };
}

/** One JSON object a line, for scripts (`jq`), also while following. */
export const jsonPrinter: Printer = {
  header() {},
  lines(task, execution, lines) {
    for (const l of lines) {
      out(`${JSON.stringify({ task: task.index, execution: execution.id, ...l })}\n`);
    }
  },
};

async function tasksOf(client: ApiClient, jobId: number, index?: number): Promise<Task[]> {
  const tasks = await client.all<Task>(`/jobs/${jobId}/tasks`);
  if (index === undefined) return tasks;
  const task = tasks.find((t) => t.index === index);
  if (!task) {
    throw new CliError(
      `job ${jobId} has no task ${index}; its tasks are 0-${Math.max(0, tasks.length - 1)}`,
    );
  }
  return [task];
}

/** Prints an execution's log from `from` to what is there now; returns where it stopped. */
export async function printLog(
  client: ApiClient,
  printer: Printer,
  task: Task,
  execution: Execution,
  from = 0,
): Promise<number> {
  let next = from;
  for (;;) {
    const page = await client.get<LogPage>(`/executions/${execution.id}/logs`, {
      from: next,
      limit: PAGE,
    });
    if (page.lines.length === 0) return next;
    printer.lines(task, execution, page.lines);
    next = page.next;
  }
}

async function printJobLogs(
  client: ApiClient,
  jobId: number,
  flags: LogsFlags,
  printer: Printer,
): Promise<void> {
  const tasks = await tasksOf(client, jobId, flags.task);
  let printed = 0;
  for (const task of tasks) {
    if (task.lastExecutionId === null) continue;
    const executions = flags.allTries
      ? await client.all<Execution>('/executions', { task: task.id })
      : [await client.get<Execution>(`/executions/${task.lastExecutionId}`)];
    for (const execution of executions) {
      printer.header(task, execution);
      await printLog(client, printer, task, execution);
      printed++;
    }
  }
  if (printed === 0) {
    err(
      flags.task === undefined
        ? `job ${jobId} has no logs yet: none of its tasks has started\n`
        : `task ${flags.task} of job ${jobId} has not started yet\n`,
    );
  }
}

/**
 * Follows the job: the first task (in index order) whose latest execution still has lines
 * to come is read by long-poll until that execution ends; then the tasks are looked at again
 * (a retry makes a new execution). Ends when the job is COMPLETED, FAILED or CANCELED and
 * every execution has been read to its end.
 */
async function followJobLogs(
  client: ApiClient,
  jobId: number,
  flags: LogsFlags,
  printer: Printer,
): Promise<void> {
  const finished = new Set<number>();
  for (;;) {
    const job = await client.get<Job>(`/jobs/${jobId}`);
    const tasks = await tasksOf(client, jobId, flags.task);
    const task = tasks.find((t) => t.lastExecutionId !== null && !finished.has(t.lastExecutionId));
    if (!task || task.lastExecutionId === null) {
      if (FINAL_STATES.includes(job.state)) return;
      await sleep(IDLE_POLL_MS);
      continue;
    }
    const execution = await client.get<Execution>(`/executions/${task.lastExecutionId}`);
    printer.header(task, execution);
    let next = 0;
    for (;;) {
      const page = await client.get<LogPage>(`/executions/${execution.id}/logs`, {
        from: next,
        limit: PAGE,
        follow: true,
        wait: FOLLOW_WAIT_S,
      });
      if (page.lines.length > 0) {
        printer.lines(task, execution, page.lines);
        next = page.next;
      } else if (!page.live) {
        break;
      }
    }
    finished.add(execution.id);
  }
}

export function registerLogsCommand(program: Command): void {
  withClientOptions(
    program
      .command('logs')
      .summary("print a job's logs")
      .description(
        "Print the logs of a job's tasks (the latest execution of each), in task order.\n" +
          'stdout lines go to stdout; stderr and system lines to stderr.',
      )
      .argument('[id]', 'job id (none with --session)'),
  )
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .option(
      '--session <id>',
      "an OpenJD session's own log instead (`drover sessions JOB` lists them)",
      optionParser(parseInteger('--session', 1)),
    )
    .option(
      '--task <index>',
      'only this task (its index, as `drover show` lists it)',
      optionParser(parseInteger('--task', 0)),
    )
    .option('--all-tries', 'every execution of each task, not only the latest')
    .option('--no-headers', 'leave out the line that heads each task')
    .action(
      action(async (idText: string | undefined, flags: LogsFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        if (flags.session !== undefined) {
          if (idText !== undefined) throw new CliError('give a job id or --session, not both');
          return printSessionLog(client, flags.session, common.json);
        }
        if (idText === undefined) throw new CliError('give a job id (or --session ID)');
        const jobId = parseId(idText);
        await client.get<Job>(`/jobs/${jobId}`); // a clear error for an unknown job
        const printer = common.json
          ? jsonPrinter
          : textPrinter(flags.headers, flags.headers ? await nodeNames(client) : new Map());
        if (flags.follow) await followJobLogs(client, jobId, flags, printer);
        else await printJobLogs(client, jobId, flags, printer);
      }),
    );
}
