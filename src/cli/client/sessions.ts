import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  err,
  out,
  parseId,
  printJson,
  withClientOptions,
} from './command-support.js';
import { elapsed, table, timestamp, type Column } from './format.js';
import type { Job, Session, SessionLogPage } from './resources.js';

/*
 * `drover sessions JOB`: the OpenJD sessions that ran the job's tasks (docs/openjd.md#session-records),
 * each with its worker, state, actions and times; `drover logs --session ID` prints one
 * session's own log (the environments' output and a line per task run).
 */

const PAGE = 1000;

const COLUMNS: readonly Column<Session>[] = [
  { header: 'ID', value: (s) => s.id, right: true },
  { header: 'NODE', value: (s) => s.nodeName ?? `node ${s.nodeId}`, max: 30 },
  { header: 'STATE', value: (s) => s.lifecycleStatus },
  { header: 'ACTIONS', value: (s) => s.actionCount, right: true },
  { header: 'STARTED', value: (s) => timestamp(s.startedAt) },
  { header: 'ELAPSED', value: (s) => elapsed(s.startedAt, s.endedAt), right: true },
  { header: 'ENDED BECAUSE', value: (s) => s.endedReason ?? '-', max: 50 },
];

export function registerSessionsCommand(program: Command): void {
  withClientOptions(
    program
      .command('sessions')
      .summary("list an OpenJD job's sessions")
      .description(
        "List the sessions that ran the tasks of an OpenJD job (or of one of its steps): the worker, its state, how many actions (environments entered, tasks run, environments exited) and when. `drover logs --session ID` prints a session's log.",
      )
      .argument('<id>', 'job id'),
  ).action(
    action(async (idText: string, _flags: unknown, command: Command) => {
      const common = commonFlags(command);
      const client = clientOf(common);
      const id = parseId(idText);
      const job = await client.get<Job>(`/jobs/${id}`);
      const page = await client.get<{ items: Session[]; total: number }>(
        `/jobs/${id}/sessions?limit=${PAGE}`,
      );
      if (common.json) return printJson(page.items);
      if (page.items.length === 0) {
        out(`job ${id} (${job.name}) has no sessions\n`);
        return;
      }
      out(table(COLUMNS, page.items));
      if (page.total > page.items.length) out(`sessions 1-${page.items.length} of ${page.total}\n`);
    }),
  );
}

/** Prints a session's log: stdout lines to stdout, the rest to stderr (as `drover logs`). */
export async function printSessionLog(
  client: ApiClient,
  sessionId: number,
  json: boolean,
): Promise<void> {
  for (let from = 0; ;) {
    const page = await client.get<SessionLogPage>(
      `/sessions/${sessionId}/log?from=${from}&limit=${PAGE}`,
    );
    for (const l of page.lines) {
      if (json) out(`${JSON.stringify({ session: sessionId, ...l })}\n`);
      else if (l.stream === 'stdout') out(`${l.text}\n`);
      else if (l.stream === 'worker') err(`[worker] ${l.text}\n`);
      else err(`${l.text}\n`);
    }
    if (page.lines.length === 0 || page.next === from) return;
    from = page.next;
  }
}
