import type { Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commaList,
  commonFlags,
  optionParser,
  out,
  parseId,
  parseIds,
  parseInteger,
  parseSeconds,
  printJson,
  withClientOptions,
} from './command-support.js';
import { timeoutSeconds } from './format.js';
import type { Job } from './resources.js';
import { parseFailurePolicy } from './submit.js';

/*
 * `drover modify JOB --priority 80 --pool gpu …`: one PATCH /jobs/:id with the settings given,
 * then the settings that changed, each as `priority: 50 → 80`. What is allowed and how the
 * job moves (a new dependency pending it, say) is the server's to decide, and its refusals
 * are printed as it words them.
 */

interface ModifyFlags {
  name?: string;
  priority?: number;
  pool?: string;
  project?: string;
  group?: string;
  machineLimit?: number;
  maxTries?: number;
  taskTimeout?: number;
  jobTimeout?: number;
  dependsOn?: number[];
  onDependencyFailure?: string;
  limits?: string[];
  comment?: string;
}

/** Each setting: its flag, its PATCH field and how it reads in the report. */
const SETTINGS: ReadonlyArray<{
  flag: keyof ModifyFlags;
  field: keyof Job & string;
  label: string;
  show: (value: unknown) => string;
}> = [
  { flag: 'name', field: 'name', label: 'name', show: (v) => JSON.stringify(v) },
  { flag: 'priority', field: 'priority', label: 'priority', show: String },
  { flag: 'pool', field: 'pool', label: 'pool', show: (v) => (v ? String(v) : '(none)') },
  { flag: 'group', field: 'group', label: 'group', show: (v) => (v ? String(v) : '(none)') },
  {
    flag: 'project',
    field: 'project',
    label: 'project',
    show: (v) => (v ? String(v) : '(none)'),
  },
  {
    flag: 'machineLimit',
    field: 'machineLimit',
    label: 'machine limit',
    show: (v) => (v ? String(v) : 'none'),
  },
  { flag: 'maxTries', field: 'maxTries', label: 'max tries', show: String },
  {
    flag: 'taskTimeout',
    field: 'taskTimeout',
    label: 'task timeout',
    show: (v) => timeoutSeconds(v as number),
  },
  {
    flag: 'jobTimeout',
    field: 'jobTimeout',
    label: 'job timeout',
    show: (v) => timeoutSeconds(v as number),
  },
  {
    flag: 'dependsOn',
    field: 'dependencies',
    label: 'depends on',
    show: (v) => ((v as number[] | undefined)?.length ? (v as number[]).join(', ') : 'none'),
  },
  {
    flag: 'onDependencyFailure',
    field: 'onDependencyFailure',
    label: 'on dependency failure',
    show: String,
  },
  {
    flag: 'limits',
    field: 'limits',
    label: 'limits',
    show: (v) => ((v as string[] | undefined)?.length ? (v as string[]).join(', ') : 'none'),
  },
  { flag: 'comment', field: 'comment', label: 'comment', show: (v) => JSON.stringify(v) },
];

const nameList = (text: string): string[] =>
  ['', 'none'].includes(text.trim().toLowerCase()) ? [] : commaList(text);

const dependencyList = (text: string): number[] =>
  ['', 'none'].includes(text.trim().toLowerCase()) ? [] : parseIds([text]);

export function registerModifyCommand(program: Command): void {
  withClientOptions(
    program
      .command('modify')
      .summary("change a job's settings")
      .description(
        "Change a job's settings (PATCH /api/v1/jobs/:id) and print what changed.\n" +
          'Timeouts take seconds or spans: 90, 45m, 2h, 1h30m; 0 or none for no timeout.',
      )
      .argument('<job>', 'job id'),
  )
    .option('--name <name>', 'the job name')
    .option('--priority <n>', 'higher runs first', optionParser(parseInteger('--priority')))
    .option('--pool <name>', 'the pool ("" for none)')
    .option('--group <name>', 'the group ("" for none)')
    .option('--project <name>', 'the project ("" for none)')
    .option(
      '--machine-limit <n>',
      'at most n nodes at once (0 = no limit)',
      optionParser(parseInteger('--machine-limit', 0)),
    )
    .option(
      '--max-tries <n>',
      'tries per task before it fails',
      optionParser(parseInteger('--max-tries', 1)),
    )
    .option(
      '--task-timeout <span>',
      'task timeout (90, 45m, 2h; 0 = none)',
      optionParser(parseSeconds('--task-timeout')),
    )
    .option(
      '--job-timeout <span>',
      'job timeout (90, 45m, 2h; 0 = none)',
      optionParser(parseSeconds('--job-timeout')),
    )
    .option(
      '--depends-on <ids>',
      'the jobs this one waits on, replacing the list (comma list; none for none)',
      optionParser(dependencyList),
    )
    .option(
      '--on-dependency-failure <policy>',
      'when a dependency fails or is canceled: CANCEL, WAIT or RUN',
      optionParser((text: string) => parseFailurePolicy('--on-dependency-failure', text)),
    )
    .option(
      '--limits <names>',
      'the limits (licences) each task takes, replacing the list (comma list; none for none)',
      nameList,
    )
    .option('--comment <text>', 'the comment')
    .action(
      action(async (jobText: string, flags: ModifyFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const id = parseId(jobText);
        const body: Record<string, unknown> = {};
        for (const s of SETTINGS) if (flags[s.flag] !== undefined) body[s.field] = flags[s.flag];
        if (Object.keys(body).length === 0) {
          throw new CliError(
            'give at least one setting to change: --name, --priority, --pool, --group, --project, --machine-limit, --max-tries, --task-timeout, --job-timeout, --depends-on, --on-dependency-failure, --limits, --comment',
          );
        }
        const before = await client.get<Job>(`/jobs/${id}`);
        const after = await client.request<Job>('PATCH', `/jobs/${id}`, { body });
        const changes = SETTINGS.filter((s) => flags[s.flag] !== undefined)
          .map((s) => ({ setting: s, from: before[s.field], to: after[s.field] }))
          .filter((c) => JSON.stringify(c.from ?? []) !== JSON.stringify(c.to ?? []));
        if (common.json) {
          return printJson({
            job: after,
            changed: Object.fromEntries([
              ...changes.map((c) => [c.setting.field, { from: c.from, to: c.to }]),
              ...(before.state !== after.state
                ? [['state', { from: before.state, to: after.state }]]
                : []),
            ]),
          });
        }
        if (changes.length === 0 && before.state === after.state) {
          out(`job ${id}: nothing changed (it already had these settings)\n`);
          return;
        }
        out(`job ${id} modified\n`);
        for (const c of changes) {
          out(`  ${c.setting.label}: ${c.setting.show(c.from)} → ${c.setting.show(c.to)}\n`);
        }
        // A new dependency can pend a queued job, and one met can release it.
        if (before.state !== after.state) out(`  state: ${before.state} → ${after.state}\n`);
      }),
    );
}
