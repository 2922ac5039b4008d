import { Option, type Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  optionParser,
  out,
  parseInteger,
  parseSeconds,
  printJson,
  withClientOptions,
} from './command-support.js';
import { details, table, timestamp, type Column } from './format.js';

/*
 * `drover notify`: notification rules (docs/notifications.md). `list` (the default), `add`,
 * `show`, `enable`, `disable`, `rm`, `deliveries`; over /api/v1/notification-rules.
 */

interface Rule {
  id: number;
  owner: string | null;
  name: string;
  events: string[];
  channel: 'webhook' | 'email';
  target: string;
  enabled: boolean;
  taskFailures: number | null;
  queueWaitSeconds: number | null;
  jobId: number | null;
  createdAt: string;
  createdBy: string;
  secret?: string | null;
}

interface Delivery {
  id: number;
  event: string;
  jobId: number | null;
  nodeId: number | null;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const EVENTS = [
  'job.completed',
  'job.failed',
  'job.canceled',
  'task.failed',
  'job.queue-wait',
  'node.lost',
  'node.quarantined',
];

/** What a rule listens to, with its thresholds: `task.failed(3), job.queue-wait(1800s)`. */
const eventsOf = (r: Rule): string =>
  r.events
    .map((e) =>
      e === 'task.failed' && r.taskFailures !== null
        ? `${e}(${r.taskFailures})`
        : e === 'job.queue-wait' && r.queueWaitSeconds !== null
          ? `${e}(${r.queueWaitSeconds}s)`
          : e,
    )
    .join(',');

const RULE_COLUMNS: readonly Column<Rule>[] = [
  { header: 'ID', value: (r) => r.id, right: true },
  {
    header: 'FOR',
    value: (r) => (r.owner === null ? '(global)' : r.jobId ? `job ${r.jobId}` : r.owner),
  },
  { header: 'EVENTS', value: eventsOf, max: 60 },
  { header: 'CHANNEL', value: (r) => r.channel },
  { header: 'TARGET', value: (r) => r.target, max: 50 },
  { header: 'ENABLED', value: (r) => (r.enabled ? 'yes' : 'no') },
];

const DELIVERY_COLUMNS: readonly Column<Delivery>[] = [
  { header: 'ID', value: (d) => d.id, right: true },
  { header: 'EVENT', value: (d) => d.event },
  {
    header: 'ABOUT',
    value: (d) => (d.jobId ? `job ${d.jobId}` : d.nodeId ? `node ${d.nodeId}` : '-'),
  },
  { header: 'STATE', value: (d) => d.state },
  { header: 'ATTEMPTS', value: (d) => d.attempts, right: true },
  { header: 'CREATED', value: (d) => timestamp(d.createdAt) },
  { header: 'LAST ERROR', value: (d) => d.lastError ?? '-', max: 60 },
];

function parseEvents(text: string): string[] {
  const events = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = events.filter((e) => !EVENTS.includes(e));
  if (events.length === 0 || unknown.length > 0) {
    throw new CliError(
      `--on takes events separated by commas, from ${EVENTS.join(', ')}${unknown.length ? `; not ${unknown.join(', ')}` : ''}`,
    );
  }
  return events;
}

const parseId = parseInteger('the rule id', 1);

export function registerNotifyCommand(program: Command): void {
  const notify = withClientOptions(
    program
      .command('notify')
      .summary('notification rules: webhooks and email on job, task and node events')
      .description(
        'List your notification rules (an admin: every rule); add, show, enable, disable or ' +
          'remove one, and see how its notifications went.',
      ),
  ).action(
    action(async (_flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const { items } = await clientOf(common).get<{ items: Rule[] }>('/notification-rules', {
        limit: 1000,
      });
      if (common.json) return printJson(items);
      out(
        items.length ? table(RULE_COLUMNS, items) : 'no rules: add one with `drover notify add`\n',
      );
    }),
  );

  withClientOptions(
    notify
      .command('add')
      .description('add a rule; a webhook rule prints its signing secret this once')
      .requiredOption('--on <events>', `events, comma-separated: ${EVENTS.join(', ')}`)
      .addOption(new Option('--webhook <url>', 'POST signed JSON to this URL').conflicts('email'))
      .addOption(new Option('--email <address>', 'send mail to this address'))
      .addOption(
        new Option('--task-failures <n>', 'task.failed: when a task has failed n times').argParser(
          optionParser(parseInteger('--task-failures', 1)),
        ),
      )
      .addOption(
        new Option(
          '--queue-wait <span>',
          'job.queue-wait: when a job has waited QUEUED this long (90, 45m, 2h)',
        ).argParser(optionParser(parseSeconds('--queue-wait'))),
      )
      .addOption(
        new Option('--job <id>', 'watch this one job only').argParser(
          optionParser(parseInteger('--job', 1)),
        ),
      )
      .option('--global', 'admins: fire for every job (and for node events)')
      .option('--name <name>', 'a name for the rule')
      .option('--secret <secret>', 'the webhook signing key (16-200 characters); made if left out')
      .option('--disabled', 'add it switched off'),
  ).action(
    action(
      async (
        flags: {
          on: string;
          webhook?: string;
          email?: string;
          taskFailures?: number;
          queueWait?: number;
          job?: number;
          global?: boolean;
          name?: string;
          secret?: string;
          disabled?: boolean;
        },
        command: Command,
      ) => {
        if (!flags.webhook && !flags.email) {
          throw new CliError('say where to send: --webhook URL or --email ADDRESS');
        }
        const common = commonFlags(command);
        const body = {
          events: parseEvents(flags.on),
          channel: flags.webhook ? 'webhook' : 'email',
          target: flags.webhook ?? flags.email,
          ...(flags.taskFailures !== undefined ? { taskFailures: flags.taskFailures } : {}),
          ...(flags.queueWait !== undefined ? { queueWaitSeconds: flags.queueWait } : {}),
          ...(flags.job !== undefined ? { jobId: flags.job } : {}),
          ...(flags.global ? { global: true } : {}),
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.secret !== undefined ? { secret: flags.secret } : {}),
          ...(flags.disabled ? { enabled: false } : {}),
        };
        const rule = await clientOf(common).post<Rule>('/notification-rules', body);
        if (common.json) return printJson(rule);
        out(`rule ${rule.id} added: ${eventsOf(rule)} → ${rule.channel} ${rule.target}\n`);
        if (rule.secret) out(`signing secret (shown once): ${rule.secret}\n`);
      },
    ),
  );

  withClientOptions(
    notify.command('show').description('one rule and its latest deliveries').argument('<id>'),
  ).action(
    action(async (text: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const id = parseId(text);
      const rule = await client.get<Rule>(`/notification-rules/${id}`);
      const { items } = await client.get<{ items: Delivery[] }>(
        `/notification-rules/${id}/deliveries`,
        { limit: 20 },
      );
      if (common.json) return printJson({ ...rule, deliveries: items });
      out(
        details([
          ['id', rule.id],
          ['name', rule.name],
          ['for', rule.owner === null ? '(global)' : rule.owner],
          ['job', rule.jobId ?? undefined],
          ['events', eventsOf(rule)],
          ['channel', rule.channel],
          ['target', rule.target],
          ['enabled', rule.enabled ? 'yes' : 'no'],
          ['created', `${timestamp(rule.createdAt)} by ${rule.createdBy}`],
        ]),
      );
      out(items.length ? `\n${table(DELIVERY_COLUMNS, items)}` : '\nno notifications yet\n');
    }),
  );

  withClientOptions(
    notify
      .command('deliveries')
      .description("a rule's notifications, newest first")
      .argument('<id>')
      .addOption(
        new Option('--limit <n>', 'at most this many (1-1000)')
          .argParser(optionParser(parseInteger('--limit', 1)))
          .default(100),
      ),
  ).action(
    action(async (text: string, flags: { limit: number }, command: Command) => {
      const common = commonFlags(command);
      const { items } = await clientOf(common).get<{ items: Delivery[] }>(
        `/notification-rules/${parseId(text)}/deliveries`,
        { limit: flags.limit },
      );
      if (common.json) return printJson(items);
      out(items.length ? table(DELIVERY_COLUMNS, items) : 'no notifications yet\n');
    }),
  );

  for (const verb of ['enable', 'disable'] as const) {
    withClientOptions(notify.command(verb).description(`${verb} a rule`).argument('<id>')).action(
      action(async (text: string, _flags: unknown, command: Command) => {
        const common = commonFlags(command);
        const rule = await clientOf(common).request<Rule>(
          'PATCH',
          `/notification-rules/${parseId(text)}`,
          { body: { enabled: verb === 'enable' } },
        );
        if (common.json) return printJson(rule);
        out(`rule ${rule.id} ${verb}d\n`);
      }),
    );
  }

  withClientOptions(
    notify
      .command('rm')
      .description('remove a rule; its notifications not yet sent are dropped')
      .argument('<id>'),
  ).action(
    action(async (text: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const id = parseId(text);
      await clientOf(common).request('DELETE', `/notification-rules/${id}`);
      if (common.json) return printJson({ id, removed: true });
      out(`rule ${id} removed\n`);
    }),
  );
}
