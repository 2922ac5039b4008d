import type { Command } from 'commander';
import {
  action,
  clientOf,
  commonFlags,
  out,
  parseId,
  printJson,
  withClientOptions,
} from './command-support.js';
import { elapsed, fraction, table, type Column } from './format.js';
import type { Job } from './resources.js';

/*
 * `drover steps JOB`: the steps of a multi-step job (an OpenJD template's steps, a composite
 * type's children), which the server keeps as child jobs of the job (GET /jobs?parent=),
 * each with the steps it runs after. The list is read in one page of up to 1,000 steps,
 * and says so when a job has more.
 */

const PAGE = 1000;

type Step = Job & { after: string[] };

const COLUMNS: readonly Column<Step>[] = [
  { header: 'ID', value: (s) => s.id, right: true },
  { header: 'STEP', value: (s) => s.childName ?? s.name, max: 40 },
  { header: 'STATE', value: (s) => s.state },
  { header: 'PROGRESS', value: (s) => fraction(s.tasks.completed, s.tasks.total), right: true },
  { header: 'FAILED', value: (s) => s.tasks.failed, right: true },
  { header: 'ELAPSED', value: (s) => elapsed(s.startedAt, s.endedAt), right: true },
  { header: 'AFTER', value: (s) => s.after.join(', ') || '-', max: 40 },
];

export function registerStepsCommand(program: Command): void {
  withClientOptions(
    program
      .command('steps')
      .summary('list the steps of a multi-step job')
      .description(
        'List the steps of a multi-step job (an OpenJD job, a composite type), each with its state, progress and the steps it runs after.',
      )
      .argument('<id>', 'job id'),
  ).action(
    action(async (idText: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const id = parseId(idText);
      // The job first: an unknown id is the server's 404, not "no steps".
      const parent = await client.get<Job>(`/jobs/${id}`);
      const page = await client.get<{ items: Job[]; total: number }>(
        `/jobs?parent=${id}&sort=id&limit=${PAGE}&deleted=include`,
      );
      const names = new Map(page.items.map((s) => [s.id, s.childName ?? s.name]));
      // The list leaves dependencies out (single job only): each step is read once.
      const steps: Step[] = [];
      for (const item of page.items) {
        const step = await client.get<Job>(`/jobs/${item.id}`);
        const after = (step.dependencies ?? []).map((d) => names.get(d) ?? `job ${d}`);
        steps.push({ ...step, after });
      }
      if (common.json) return printJson(steps);
      if (steps.length === 0) {
        out(`job ${id} (${parent.name}) has no steps\n`);
        return;
      }
      out(table(COLUMNS, steps));
      if (page.total > steps.length) out(`steps 1-${steps.length} of ${page.total}\n`);
    }),
  );
}
