import { useCallback, useEffect, useState, type MutableRefObject } from 'react';
import { applyToJobs, jobCount, summarise, type BulkAction } from '../api/bulk';
import type { Job } from '../api/types';
import { allows, CONFIRMED, type JobCommand } from '../lib/job-actions';
import { ConfirmDialog, type Confirmation } from './ConfirmDialog';

export const ACTIONS: Array<{ action: JobCommand; label: string; danger?: boolean }> = [
  { action: 'suspend', label: 'Suspend' },
  { action: 'resume', label: 'Resume' },
  { action: 'retry', label: 'Retry failed tasks' },
  { action: 'requeue', label: 'Requeue' },
  { action: 'pend', label: 'Pend' },
  { action: 'release', label: 'Release' },
  { action: 'cancel', label: 'Cancel', danger: true },
  { action: 'delete', label: 'Delete', danger: true },
  { action: 'undelete', label: 'Undelete' },
  { action: 'purge', label: 'Purge', danger: true },
];

const QUESTIONS: Partial<Record<JobCommand, { verb: string; body: string }>> = {
  cancel: {
    verb: 'Cancel',
    body: 'Their running tasks are stopped and nothing more of them runs. Requeue starts them again from scratch.',
  },
  delete: {
    verb: 'Delete',
    body: 'They leave the list; "Deleted jobs: only" shows them, and Undelete brings them back until they are purged.',
  },
  purge: {
    verb: 'Purge',
    body: 'Their tasks, logs and history are removed from the database for good. This cannot be undone.',
  },
};

export type ActionJob = Pick<Job, 'id' | 'name' | 'state' | 'deleted'>;

/**
 * Buttons that act on the given jobs (many from the list, or one on its page): only the
 * actions their states allow are enabled (`hideInvalid` leaves the others out), the ones
 * that cannot be taken back ask first with a count, and the outcome names each job the
 * server refused and why.
 */
export function BulkActions({
  jobs,
  onDone,
  hideInvalid = false,
  trigger,
}: {
  jobs: ActionJob[];
  onDone: (message: string, failed: boolean) => void;
  hideInvalid?: boolean;
  /** Set to a function that runs an action as its button would (for keyboard shortcuts). */
  trigger?: MutableRefObject<((action: JobCommand, among?: ActionJob[]) => void) | undefined>;
}) {
  const [busy, setBusy] = useState(false);
  const [priority, setPriority] = useState('');
  const [confirmation, setConfirmation] = useState<Confirmation>();
  const closeDialog = useCallback(() => setConfirmation(undefined), []);

  const apply = async (action: BulkAction, ids: number[], skipped: number, value = 50) => {
    setBusy(true);
    const result = await applyToJobs(ids, action, value, skipped);
    setBusy(false);
    onDone(summarise(action, result), result.refused.length > 0);
  };

  const run = (action: JobCommand, among: ActionJob[] = jobs) => {
    const eligible = among.filter((j) => allows(j, action));
    if (eligible.length === 0) return;
    const ids = eligible.map((j) => j.id);
    const skipped = among.length - eligible.length;
    const question = QUESTIONS[action];
    if (!CONFIRMED.has(action) || !question) {
      void apply(action, ids, skipped);
      return;
    }
    const what = jobCount(eligible.length);
    setConfirmation({
      title: `${question.verb} ${what}?`,
      body: question.body,
      names: eligible.map((j) => `#${j.id} ${j.name || '(no name)'}`),
      confirmLabel: `${question.verb} ${what}`,
      onConfirm: () => void apply(action, ids, skipped),
    });
  };

  useEffect(() => {
    if (trigger) trigger.current = busy ? undefined : run;
  });

  const setPriorityOf = () => {
    const value = Number(priority);
    if (!Number.isInteger(value) || priority.trim() === '') {
      onDone('Type a whole number as the priority (higher runs first), then press Set.', true);
      return;
    }
    const eligible = jobs.filter((j) => !j.deleted);
    void apply(
      'priority',
      eligible.map((j) => j.id),
      jobs.length - eligible.length,
      value,
    );
  };

  return (
    <div className="actions" aria-busy={busy}>
      {ACTIONS.map((a) => {
        const can = jobs.filter((j) => allows(j, a.action)).length;
        if (hideInvalid && can === 0) return null;
        const partial = can > 0 && can < jobs.length;
        return (
          <button
            key={a.action}
            type="button"
            data-action={a.action}
            className={a.danger ? 'danger' : ''}
            disabled={busy || can === 0}
            title={
              jobs.length === 0
                ? 'Select jobs first'
                : `${can} of ${jobCount(jobs.length)} can take this action`
            }
            onClick={() => run(a.action)}
          >
            {a.label}
            {partial && <span className="count"> ({can})</span>}
          </button>
        );
      })}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          setPriorityOf();
        }}
      >
        <input
          aria-label="New priority"
          placeholder="Priority"
          inputMode="numeric"
          size={7}
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
        />
        <button type="submit" disabled={busy || jobs.every((j) => j.deleted)}>
          Set
        </button>
      </form>
      <ConfirmDialog confirmation={confirmation} onClose={closeDialog} />
    </div>
  );
}
