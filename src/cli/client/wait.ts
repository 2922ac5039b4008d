import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import {
  action,
  clientOf,
  commonFlags,
  err,
  optionParser,
  out,
  parseId,
  parseNumber,
  printJson,
  withClientOptions,
} from './command-support.js';
import { duration, progressBar } from './format.js';
import type { Job } from './resources.js';

/*
 * `drover wait ID`: waits for a job to end. The exit status tells how it ended, so scripts
 * can chain on it: 0 COMPLETED, 1 FAILED or CANCELED (or an error), 2 timed out.
 */

export const EXIT_COMPLETED = 0;
export const EXIT_FAILED = 1;
export const EXIT_TIMEOUT = 2;

interface WaitFlags {
  timeout?: number;
  interval: number;
}

function summary(job: Job): string {
  const t = job.tasks;
  const failed = t.failed ? `, ${t.failed} failed` : '';
  const error = job.error
    ? ` (${job.error.name}${job.error.message ? `: ${job.error.message}` : ''})`
    : '';
  return `${t.completed}/${t.total} tasks done${failed}${error}`;
}

/** The line a terminal redraws in place. */
function barLine(job: Job, since: number): string {
  const t = job.tasks;
  const fraction = t.total === 0 ? 0 : t.completed / t.total;
  const running = t.running ? `, ${t.running} running` : '';
  const failed = t.failed ? `, ${t.failed} failed` : '';
  return `job ${job.id} ${progressBar(fraction)} ${t.completed}/${t.total} tasks${running}${failed}  ${job.state}  ${duration(Math.floor((Date.now() - since) / 1000) * 1000).replace(/^0ms$/, '0s')}`;
}

export function registerWaitCommand(program: Command): void {
  withClientOptions(
    program
      .command('wait')
      .summary('wait for a job to end')
      .description(
        'Wait for a job to end, showing its progress.\n' +
          'Exit status: 0 COMPLETED, 1 FAILED or CANCELED, 2 timed out.',
      )
      .argument('<id>', 'job id'),
  )
    .option(
      '--timeout <seconds>',
      'give up after this many seconds (exit 2)',
      optionParser(parseNumber('--timeout')),
    )
    .option(
      '--interval <seconds>',
      'seconds between looks at the job',
      optionParser(parseNumber('--interval')),
      1,
    )
    .action(
      action(async (idText: string, flags: WaitFlags, command: Command) => {
        const common = commonFlags(command);
        const client = clientOf(common);
        const id = parseId(idText);
        const started = Date.now();
        const deadline = flags.timeout === undefined ? Infinity : started + flags.timeout * 1000;
        const tty = !common.json && process.stdout.isTTY === true;
        let lastPlain = '';
        let drawn = false;
        for (;;) {
          const job = await client.get<Job>(`/jobs/${id}`);
          const ended =
            job.state === 'COMPLETED' || job.state === 'FAILED' || job.state === 'CANCELED';
          const timedOut = !ended && Date.now() >= deadline;
          if (tty) {
            out(`\r\x1b[2K${barLine(job, started)}`);
            drawn = true;
          } else if (!common.json && !ended) {
            const line = `job ${id}: ${job.state}, ${summary(job)}`;
            if (line !== lastPlain) out(`${line}\n`);
            lastPlain = line;
          }
          if (ended || timedOut) {
            if (drawn) out('\n');
            if (common.json) printJson(job);
            else if (ended) out(`job ${id} ${job.state}: ${summary(job)}\n`);
            if (timedOut) {
              err(
                `drover: gave up waiting for job ${id} after ${flags.timeout}s; it is ${job.state}\n`,
              );
              return EXIT_TIMEOUT;
            }
            return job.state === 'COMPLETED' ? EXIT_COMPLETED : EXIT_FAILED;
          }
          const pause = Math.min(flags.interval * 1000, Math.max(0, deadline - Date.now()));
          await sleep(Math.max(pause, 10));
        }
      }),
    );
}
