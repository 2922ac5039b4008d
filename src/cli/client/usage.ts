import { Option, type Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  optionParser,
  out,
  parseInteger,
  printJson,
  withClientOptions,
} from './command-support.js';
import { table, type Column } from './format.js';

/* `drover usage`: CPU-, wall- and GPU-hours per user, pool, job type or job (GET /usage). */

interface Figures {
  executions: number;
  cpuHours: number;
  wallHours: number;
  gpuHours: number | null;
  peakMemoryBytes: number | null;
}

interface UsageReport {
  group: string;
  from: string;
  to: string;
  user: string | null;
  items: (Figures & { key: string })[];
  totals: Figures;
  truncated: boolean;
}

const GROUPS = ['user', 'pool', 'jobType', 'job'] as const;

const hours = (h: number | null): string => (h === null ? '-' : h.toFixed(2));
const memory = (bytes: number | null): string =>
  bytes === null ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A date or date-time as the server takes it; `2026-12-01` is that day's start in UTC. */
function parseTime(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new CliError(`"${text}" is not a date or time (e.g. 2026-12-01 or 2026-12-01T08:00Z)`);
  }
  return new Date(ms).toISOString();
}

export function registerUsageCommand(program: Command): void {
  withClientOptions(
    program
      .command('usage')
      .summary('CPU-, wall- and GPU-hours per user, pool, job type or job')
      .description(
        'What ended executions used in a time range (default: the last 30 days), from what the ' +
          "nodes measured. A user sees their own jobs' usage, an admin everyone's.",
      )
      .addOption(new Option('--group <by>', 'group by').choices([...GROUPS]).default('user'))
      .addOption(
        new Option('--from <time>', 'start of the range').argParser(optionParser(parseTime)),
      )
      .addOption(
        new Option('--to <time>', 'end of the range (default: now)').argParser(
          optionParser(parseTime),
        ),
      )
      .addOption(
        new Option('--limit <n>', 'at most this many groups (1-10000)')
          .argParser(optionParser(parseInteger('--limit', 1)))
          .default(1000),
      )
      .option('--csv', 'print CSV, as the server writes it'),
  ).action(
    action(
      async (
        flags: { group: string; from?: string; to?: string; limit: number; csv?: boolean },
        command: Command,
      ) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const query = { group: flags.group, from: flags.from, to: flags.to, limit: flags.limit };
        if (flags.csv) {
          const params = new URLSearchParams({ format: 'csv' });
          for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
          out((await client.bytes(`/usage?${params.toString()}`)).toString('utf8'));
          return;
        }
        const report = await client.get<UsageReport>('/usage', query);
        if (common.json) return printJson(report);
        const columns: readonly Column<Figures & { key: string }>[] = [
          { header: report.group.toUpperCase(), value: (r) => r.key || '-', max: 40 },
          { header: 'EXECUTIONS', value: (r) => r.executions, right: true },
          { header: 'CPU-HOURS', value: (r) => hours(r.cpuHours), right: true },
          { header: 'WALL-HOURS', value: (r) => hours(r.wallHours), right: true },
          { header: 'GPU-HOURS', value: (r) => hours(r.gpuHours), right: true },
          { header: 'PEAK MEMORY', value: (r) => memory(r.peakMemoryBytes), right: true },
        ];
        const whose = report.user === null ? 'every user' : `${report.user}'s jobs`;
        out(`usage of ${whose}, ${report.from} to ${report.to}\n`);
        if (report.items.length === 0) return out('no executions ended in this range\n');
        out(table(columns, [...report.items, { key: '(total)', ...report.totals }]));
        if (report.truncated) out(`only the first ${report.items.length} groups; see --limit\n`);
      },
    ),
  );
}
