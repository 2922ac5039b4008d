import type { Executor } from '../../store/database.js';
import type { EndedExecution } from '../../store/executions.js';
import { readLogLines, type LogLine } from '../../store/logs.js';
import { reportTitle, reportTypeOf } from './report-json.js';
import { REPORT_TYPE } from './state-mapping.js';

/*
 * The text of a report (Data=...contents): the execution's log written the way a Deadline
 * Worker log reads ("2026-01-01 00:00:00:  0: STDOUT: text", the form scripts parse
 * line by line), under a banner, with the error or the requeue reason above it, where
 * Deadline puts the cause of an error. Time is UTC. The banners are [unverified].
 *
 * Only the last CONTENT_LINES lines of each log are shown, so that a job's contents stay a
 * bounded read; the first line then says where the whole log is.
 */

export const CONTENT_LINES = 2000;

const BAR = '='.repeat(55);
const SOURCE: Record<LogLine['stream'], string> = {
  stdout: 'STDOUT',
  stderr: 'STDERR',
  worker: 'INFO',
};

function section(name: string, body: string[]): string[] {
  return [BAR, name, BAR, ...body, ''];
}

function logLine(line: LogLine): string {
  const iso = new Date(line.time).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}:  0: ${SOURCE[line.stream]}: ${line.text}`;
}

export async function reportContents(db: Executor, execution: EndedExecution): Promise<string> {
  const from = Math.max(0, execution.log_lines - CONTENT_LINES);
  const lines = await readLogLines(db, execution.id, from, CONTENT_LINES);
  const out: string[] = [];
  const type = reportTypeOf(execution);
  if (type === REPORT_TYPE.ERROR) out.push(...section('Error', [reportTitle(execution)]));
  if (type === REPORT_TYPE.REQUEUE) out.push(...section('Requeue', [reportTitle(execution)]));
  const log = lines.map(logLine);
  if (from > 0) {
    log.unshift(
      `(${from} earlier lines left out; the whole log is at /api/v1/executions/${execution.id}/logs)`,
    );
  }
  out.push(...section('Log', log));
  return out.join('\n');
}
