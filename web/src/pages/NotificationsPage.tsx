import { useCallback, useState } from 'react';
import { api } from '../api/endpoints';
import { operatorApi, type NotificationRule, type RuleInput } from '../api/operator-endpoints';
import { ConfirmDialog, type Confirmation } from '../components/ConfirmDialog';
import { describeError, ErrorMessage } from '../components/ErrorMessage';
import { Notice, type NoticeText } from '../components/Notice';
import { useLoad } from '../lib/hooks';

/* The events a user's rule may hear; node.lost is for an admin's global rules (the API's). */
const EVENTS = [
  { event: 'job.completed', label: 'a job completes' },
  { event: 'job.failed', label: 'a job fails' },
  { event: 'job.canceled', label: 'a job is canceled' },
  { event: 'task.failed', label: 'a task fails N times' },
  { event: 'job.queue-wait', label: 'a job waits queued too long' },
];

/** The form for a new rule. */
function RuleForm({
  onCreated,
}: {
  onCreated: (rule: NotificationRule, secret: string | null) => void;
}) {
  const [name, setName] = useState('');
  const [events, setEvents] = useState<string[]>(['job.failed']);
  const [channel, setChannel] = useState<'webhook' | 'email'>('webhook');
  const [target, setTarget] = useState('');
  const [taskFailures, setTaskFailures] = useState('3');
  const [queueWait, setQueueWait] = useState('3600');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const create = async () => {
    const body: RuleInput = { events, channel, target: target.trim() };
    if (name.trim()) body.name = name.trim();
    if (events.includes('task.failed')) body.taskFailures = Number(taskFailures);
    if (events.includes('job.queue-wait')) body.queueWaitSeconds = Number(queueWait);
    setBusy(true);
    setError(undefined);
    try {
      const rule = await operatorApi.createRule(body);
      onCreated(rule, rule.secret);
      setName('');
      setTarget('');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="rule-form"
      aria-label="New notification rule"
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
      </label>
      <fieldset>
        <legend>Tell me when</legend>
        {EVENTS.map((e) => (
          <label key={e.event} className="check">
            <input
              type="checkbox"
              checked={events.includes(e.event)}
              onChange={(x) =>
                setEvents((old) =>
                  x.target.checked ? [...old, e.event] : old.filter((v) => v !== e.event),
                )
              }
            />{' '}
            {e.label}
          </label>
        ))}
      </fieldset>
      {events.includes('task.failed') && (
        <label>
          Task failures (N)
          <input
            value={taskFailures}
            onChange={(e) => setTaskFailures(e.target.value)}
            inputMode="numeric"
            size={4}
          />
        </label>
      )}
      {events.includes('job.queue-wait') && (
        <label>
          Queued longer than (seconds)
          <input
            value={queueWait}
            onChange={(e) => setQueueWait(e.target.value)}
            inputMode="numeric"
            size={8}
          />
        </label>
      )}
      <label>
        By
        <select value={channel} onChange={(e) => setChannel(e.target.value as 'webhook' | 'email')}>
          <option value="webhook">webhook</option>
          <option value="email">email</option>
        </select>
      </label>
      <label className="grow">
        {channel === 'webhook' ? 'URL' : 'Address'}
        <input
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          placeholder={
            channel === 'webhook' ? 'https://hooks.example.com/drover' : 'me@example.com'
          }
          maxLength={2000}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Create rule
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/**
 * A user's own notification rules (an admin's list holds every rule, global ones too):
 * what fires them and where they go, switched on and off or deleted here.
 */
export function NotificationsPage() {
  const rules = useLoad(() => operatorApi.rules(), []);
  const me = useLoad(() => api.whoami(), []);
  const [notice, setNotice] = useState<NoticeText>();
  const [secret, setSecret] = useState<{ name: string; secret: string }>();
  const [confirmation, setConfirmation] = useState<Confirmation>();
  const closeDialog = useCallback(() => setConfirmation(undefined), []);

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setNotice({ text: done, failed: false });
      rules.reload();
    } catch (error) {
      setNotice({ text: describeError(error), failed: true });
    }
  };
  const toggle = (rule: NotificationRule) =>
    void act(
      () => operatorApi.updateRule(rule.id, { enabled: !rule.enabled }),
      `${rule.enabled ? 'Paused' : 'Enabled'} rule ${rule.name}.`,
    );
  const ask = (rule: NotificationRule) =>
    setConfirmation({
      title: `Delete rule ${rule.name}?`,
      body: 'Its notifications not yet sent are dropped.',
      names: [rule.name],
      confirmLabel: 'Delete rule',
      onConfirm: () =>
        void act(() => operatorApi.deleteRule(rule.id), `Deleted rule ${rule.name}.`),
    });

  const items = rules.data?.items ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Notifications</h1>
        {me.data && (
          <span className="muted">
            {me.data.role === 'admin'
              ? 'every rule (you are an admin)'
              : `rules on ${me.data.name}'s jobs`}
          </span>
        )}
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      {secret && (
        <div className="notice good secret" role="status">
          <span>
            Rule {secret.name}: its webhook signing secret is <code>{secret.secret}</code>. Copy it
            now: it is not shown again.
          </span>
          <button
            type="button"
            className="link"
            onClick={() => setSecret(undefined)}
            aria-label="Dismiss"
          >
            ✕
          </button>
        </div>
      )}
      <ErrorMessage error={rules.error} onRetry={rules.reload} />
      <div className="table-wrap">
        <table className="rules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Events</th>
              <th>To</th>
              <th>Whose</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-rule={r.id}>
                <td>{r.name}</td>
                <td>
                  {r.events.join(', ')}
                  {r.taskFailures !== null && (
                    <span className="muted"> (after {r.taskFailures} failures)</span>
                  )}
                  {r.queueWaitSeconds !== null && (
                    <span className="muted"> (after {r.queueWaitSeconds} s queued)</span>
                  )}
                </td>
                <td>
                  {r.channel}: <span className="target">{r.target}</span>
                </td>
                <td>
                  {r.jobId !== null ? `job ${r.jobId}` : r.owner === null ? 'every job' : r.owner}
                </td>
                <td data-column="enabled">
                  {r.enabled ? 'on' : <span className="muted">paused</span>}
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => toggle(r)}>
                    {r.enabled ? 'Pause' : 'Enable'}
                  </button>
                  <button type="button" className="danger" onClick={() => ask(r)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {!rules.loading && items.length === 0 && (
              <tr>
                <td colSpan={6} className="empty">
                  No rules yet: create one below to hear about your jobs.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <section className="card">
        <h2>New rule</h2>
        <RuleForm
          onCreated={(rule, s) => {
            setNotice({ text: `Created rule ${rule.name}.`, failed: false });
            if (s) setSecret({ name: rule.name, secret: s });
            rules.reload();
          }}
        />
      </section>
      <ConfirmDialog confirmation={confirmation} onClose={closeDialog} />
    </div>
  );
}
