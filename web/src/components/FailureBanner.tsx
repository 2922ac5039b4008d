import { api } from '../api/endpoints';
import type { Execution, Job, LogLine, Task } from '../api/types';
import { useLoad } from '../lib/hooks';

/** Lines read from the end of the failed try's log, of which the last stderr ones are shown. */
const TAIL_READ = 200;
const TAIL_SHOWN = 8;

export interface Failure {
  task: Task;
  execution: Execution | undefined;
  /** The last stderr lines (the last lines of any stream when there is no stderr). */
  lines: LogLine[];
}

/**
 * The first failed task of a job (by index), its last try and the end of that try's log:
 * only as much of the log as the banner shows is read, however long it is.
 */
async function firstFailure(jobId: number): Promise<Failure | undefined> {
  const task = (await api.failedTasks(jobId)).items[0];
  if (!task) return undefined;
  if (task.lastExecutionId === null) return { task, execution: undefined, lines: [] };
  const execution = await api.execution(task.lastExecutionId);
  const from = Math.max(0, execution.logLines - TAIL_READ);
  const page = await api.logRange(execution.id, from, TAIL_READ);
  const stderr = page.lines.filter((l) => l.stream === 'stderr');
  const lines = (stderr.length ? stderr : page.lines).slice(-TAIL_SHOWN);
  return { task, execution, lines };
}

/** Loads the first failure again whenever the number of failed tasks changes. */
export function useFirstFailure(job: Job | undefined) {
  const failed = job?.tasks.failed ?? 0;
  return useLoad(
    () => (job && failed > 0 ? firstFailure(job.id) : Promise.resolve(undefined)),
    [job?.id, failed, job?.state],
  );
}

/**
 * Why a job failed, in the words of the program that failed: the last stderr lines of its
 * first failed task, with the server's error category kept small beside them.
 */
export function FailureBanner({
  job,
  failure,
  nodeName,
  onOpen,
}: {
  job: Job;
  failure: Failure | undefined;
  nodeName: (id: number) => string;
  onOpen: (failure: Failure) => void;
}) {
  const code = job.error ?? failure?.execution?.error ?? null;
  if (!failure) {
    if (!job.error) return null;
    return (
      <div className="error failure" data-testid="failure">
        {job.error.name}
        {job.error.message ? `: ${job.error.message}` : ''}
      </div>
    );
  }
  const { task, execution, lines } = failure;
  const exit = execution?.exitCode;
  return (
    <div className="error failure" data-testid="failure">
      <div className="failure-head">
        <strong>
          Task {task.index} (frames {task.frames}) failed
          {execution ? ` on ${nodeName(execution.nodeId)}` : ''}
          {exit !== null && exit !== undefined ? ` with exit code ${exit}` : ''}
        </strong>
        {code && (
          <span className="muted failure-code" title={code.message ?? undefined}>
            {code.name}
          </span>
        )}
        <button type="button" className="link" onClick={() => onOpen(failure)}>
          Open its log
        </button>
      </div>
      {lines.length > 0 ? (
        <pre className="failure-lines">{lines.map((l) => l.text).join('\n')}</pre>
      ) : (
        <span>{code?.message ?? 'The failed try wrote no log.'}</span>
      )}
    </div>
  );
}
