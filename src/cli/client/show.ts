import type { Command } from 'commander';
import {
  DEFAULT_TASK_TIMEOUT_ACTION,
  TASK_TIMEOUT_ACTION_TEXT,
} from '../../domain/task-timeout-action.js';
import type { ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  out,
  parseId,
  printJson,
  withClientOptions,
} from './command-support.js';
import {
  bytes,
  details,
  elapsed,
  fraction,
  mebibytes,
  table,
  timeoutSeconds,
  timestamp,
  type Column,
} from './format.js';
import type { Execution, Job, Node, Output, Page, Task, WaitingReason } from './resources.js';

/* `drover show ID`: one job's details, tasks, executions, waiting reasons and outputs. */

const TASKS_SHOWN = 100;
const EXECUTIONS_SHOWN = 100;

/** Id → name of every node, for tables that hold node ids. */
export async function nodeNames(client: ApiClient): Promise<Map<number, string>> {
  const nodes = await client.all<Node>('/nodes', {}, 1000, 10_000);
  return new Map(nodes.map((n) => [n.id, n.name]));
}

/** The worker's outputs route may not exist yet; either a list or a page is accepted. */
export async function outputsOf(client: ApiClient, jobId: number): Promise<Output[] | undefined> {
  const body = await client.optional<Output[] | { items: Output[] }>(`/jobs/${jobId}/outputs`);
  if (body === undefined) return undefined;
  return Array.isArray(body) ? body : (body.items ?? []);
}

/** The newest executions tell the most: the last EXECUTIONS_SHOWN, oldest first. */
async function lastExecutions(client: ApiClient, jobId: number): Promise<Page<Execution>> {
  const first = await client.get<Page<Execution>>('/executions', {
    job: jobId,
    limit: EXECUTIONS_SHOWN,
  });
  if (first.total <= EXECUTIONS_SHOWN) return first;
  return client.get<Page<Execution>>('/executions', {
    job: jobId,
    limit: EXECUTIONS_SHOWN,
    offset: first.total - EXECUTIONS_SHOWN,
  });
}

/** attr.worker.os.family in [windows], amount.worker.gpu.memory >= 8192 */
function hostRequirementText(job: Job): string {
  const { attributes = [], amounts = [] } = job.hostRequirements ?? {};
  return [
    ...attributes.map((a) =>
      a.anyOf
        ? `${a.name} in [${a.anyOf.join(', ')}]`
        : `${a.name} with [${(a.allOf ?? []).join(', ')}]`,
    ),
    ...amounts.map((m) =>
      [
        m.min !== undefined ? `${m.name} >= ${m.min}` : '',
        m.max !== undefined ? `${m.name} <= ${m.max}` : '',
      ]
        .filter(Boolean)
        .join(', '),
    ),
  ].join(', ');
}

function jobDetails(job: Job): string {
  // The action matters once there is a timeout; a chosen one is shown even before that.
  const timeoutShown = job.taskTimeout > 0 || job.taskTimeoutAction !== DEFAULT_TASK_TIMEOUT_ACTION;
  const nodes =
    job.nodeList.mode === 'NONE'
      ? undefined
      : `${job.nodeList.mode === 'ALLOW' ? 'only' : 'not'} ${(job.nodeList.nodes ?? []).join(', ')}`;
  const r = job.resources;
  const needs = [
    r.cpus ? `${r.cpus} cpus` : '',
    r.mem ? `${mebibytes(r.mem)} memory` : '',
    r.gpus ? `${r.gpus} gpus` : '',
    r.disk ? `${mebibytes(r.disk)} disk` : '',
  ].filter(Boolean);
  return details([
    ['Job', `${job.id}  ${job.name}`],
    [
      'State',
      `${job.state}${job.pendReason ? ` (${job.pendReason.toLowerCase()})` : ''}${job.deleted ? ', deleted' : ''}`,
    ],
    ['Type', `${job.type.name} ${job.type.version}`],
    ['User', job.user],
    ['Comment', job.comment || undefined],
    ['Department', job.department || undefined],
    ['Project', job.project || undefined],
    ['Priority', job.priority],
    ['Pool', job.pool || undefined],
    ['Group', job.group || undefined],
    ['Frames', job.frames ? `${job.frames} (chunks of ${job.chunkSize})` : undefined],
    [
      'Tasks',
      `${fraction(job.tasks.completed, job.tasks.total)} completed, ${job.tasks.running} running, ${job.tasks.queued} queued, ${job.tasks.failed} failed${job.steps ? " (its steps' tasks)" : ''}`,
    ],
    [
      'Steps',
      job.steps
        ? `${job.steps.completed}/${job.steps.total} completed, ${job.steps.running} running, ${job.steps.failed} failed (drover steps ${job.id})`
        : undefined,
    ],
    ['Parameters', Object.keys(job.parameters).length ? JSON.stringify(job.parameters) : undefined],
    ['Inputs', Object.keys(job.inputs).length ? JSON.stringify(job.inputs) : undefined],
    ['Depends on', job.dependencies?.length ? job.dependencies.join(', ') : undefined],
    ['Nodes', nodes],
    ['Machine limit', job.machineLimit || undefined],
    ['Needs', needs.length ? needs.join(', ') : undefined],
    ['Host requirements', job.hostRequirements ? hostRequirementText(job) : undefined],
    ['Max tries', job.maxTries],
    ['Task timeout', timeoutShown ? timeoutSeconds(job.taskTimeout) : undefined],
    [
      'On task timeout',
      timeoutShown
        ? `${job.taskTimeoutAction} (${TASK_TIMEOUT_ACTION_TEXT[job.taskTimeoutAction]})`
        : undefined,
    ],
    ['Job timeout', job.jobTimeout ? timeoutSeconds(job.jobTimeout) : undefined],
    [
      'Error',
      job.error
        ? `${job.error.name}${job.error.message ? `: ${job.error.message}` : ''}`
        : undefined,
    ],
    ['Submitted', timestamp(job.createdAt)],
    ['Scheduled', job.scheduledAt ? timestamp(job.scheduledAt) : undefined],
    ['Started', job.startedAt ? timestamp(job.startedAt) : undefined],
    ['Ended', job.endedAt ? timestamp(job.endedAt) : undefined],
    ['Run time', job.startedAt ? elapsed(job.startedAt, job.endedAt) : undefined],
    ['Deleted', job.deletedAt ? timestamp(job.deletedAt) : undefined],
  ]);
}

const taskColumns = (names: Map<number, string>): Column<Task>[] => [
  { header: 'TASK', value: (t) => t.index, right: true },
  { header: 'FRAMES', value: (t) => t.frames || '-' },
  { header: 'STATE', value: (t) => t.state },
  { header: 'TRIES', value: (t) => t.tries, right: true },
  { header: 'PROGRESS', value: (t) => `${Math.floor(t.progress)}%`, right: true },
  { header: 'NODE', value: (t) => (t.nodeId === null ? '-' : (names.get(t.nodeId) ?? t.nodeId)) },
  { header: 'STARTED', value: (t) => timestamp(t.startedAt) },
  { header: 'DURATION', value: (t) => elapsed(t.startedAt, t.endedAt) },
];

export const executionColumns = (
  names: Map<number, string>,
  taskIndex: Map<number, number>,
): Column<Execution>[] => [
  { header: 'EXECUTION', value: (e) => e.id, right: true },
  { header: 'TASK', value: (e) => taskIndex.get(e.taskId) ?? `#${e.taskId}`, right: true },
  { header: 'EXE#', value: (e) => e.exeNum, right: true },
  { header: 'NODE', value: (e) => names.get(e.nodeId) ?? e.nodeId },
  { header: 'STATE', value: (e) => (e.timedOut ? `${e.state} (timed out)` : e.state) },
  { header: 'STARTED', value: (e) => timestamp(e.startedAt) },
  { header: 'ENDED', value: (e) => timestamp(e.endedAt) },
  { header: 'DURATION', value: (e) => elapsed(e.startedAt, e.endedAt) },
  { header: 'EXIT', value: (e) => e.exitCode, right: true },
  {
    header: 'ERROR',
    value: (e) =>
      e.error ? `${e.error.name}${e.error.message ? `: ${e.error.message}` : ''}` : '',
    max: 60,
  },
];

export const outputColumns: Column<Output>[] = [
  { header: 'OUTPUT', value: (o) => o.id, right: true },
  { header: 'NAME', value: (o) => o.name },
  { header: 'TYPE', value: (o) => o.type },
  { header: 'SIZE', value: (o) => bytes(o.size), right: true },
];

export function registerShowCommand(program: Command): void {
  withClientOptions(
    program
      .command('show')
      .summary('show a job')
      .description('Show a job: details, tasks, executions, why it waits, outputs.')
      .argument('<id>', 'job id'),
  ).action(
    action(async (idText: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const id = parseId(idText);
      const job = await client.get<Job>(`/jobs/${id}`);
      const [tasks, executions, names, outputs, waiting] = await Promise.all([
        client.get<Page<Task>>(`/jobs/${id}/tasks`, { limit: TASKS_SHOWN }),
        lastExecutions(client, id),
        nodeNames(client),
        outputsOf(client, id),
        job.state === 'PENDING' || job.state === 'QUEUED'
          ? client.get<{ reasons: WaitingReason[] }>(`/jobs/${id}/waiting-reasons`)
          : Promise.resolve(undefined),
      ]);
      if (common.json) {
        return printJson({
          job,
          tasks: tasks.items,
          tasksTotal: tasks.total,
          executions: executions.items,
          waitingReasons: waiting?.reasons ?? [],
          outputs: outputs ?? [],
        });
      }
      out(jobDetails(job));
      if (waiting?.reasons.length) {
        out('\nWaiting because\n');
        for (const r of waiting.reasons) out(`  - ${r.message}\n`);
      }
      out(`\nTasks (${tasks.total})\n`);
      out(table(taskColumns(names), tasks.items));
      if (tasks.total > tasks.items.length) {
        out(`… and ${tasks.total - tasks.items.length} more tasks\n`);
      }
      if (executions.total > 0) {
        const shown = executions.items;
        const taskIndex = new Map(tasks.items.map((t) => [t.id, t.index]));
        for (const taskId of new Set(shown.map((e) => e.taskId))) {
          if (!taskIndex.has(taskId)) {
            taskIndex.set(taskId, (await client.get<Task>(`/tasks/${taskId}`)).index);
          }
        }
        out(`\nExecutions (${executions.total})\n`);
        if (executions.total > shown.length) {
          out(`(the last ${shown.length})\n`);
        }
        out(table(executionColumns(names, taskIndex), shown));
      }
      if (outputs?.length) {
        out(`\nOutputs (${outputs.length})\n`);
        out(table(outputColumns, outputs));
      }
    }),
  );
}
