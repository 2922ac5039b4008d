import { useCallback, useState } from 'react';
import { api } from '../api/endpoints';
import { useEvents } from '../api/events';
import { operatorApi, type Limit } from '../api/operator-endpoints';
import { ConfirmDialog, type Confirmation } from '../components/ConfirmDialog';
import { describeError, ErrorMessage } from '../components/ErrorMessage';
import { LiveBadge } from '../components/LiveBadge';
import { Notice, type NoticeText } from '../components/Notice';
import { useLoad, useThrottle } from '../lib/hooks';

/** How full a limit is, as a bar: red when every unit is taken. */
function Use({ limit }: { limit: Limit }) {
  const full = limit.inUse >= limit.maxCount;
  const ratio = limit.maxCount === 0 ? 1 : Math.min(1, limit.inUse / limit.maxCount);
  return (
    <span
      className={`limit-use${full ? ' full' : ''}`}
      data-use={`${limit.inUse}/${limit.maxCount}`}
    >
      <span className="limit-bar" aria-hidden="true">
        <i style={{ width: `${Math.round(ratio * 100)}%` }} />
      </span>
      {limit.inUse} / {limit.maxCount}
    </span>
  );
}

/** An admin's form for one limit: a new one (no `limit`) or changes to `limit`. */
function LimitForm({
  limit,
  onSaved,
  onCancel,
}: {
  limit?: Limit;
  onSaved: (saved: Limit) => void;
  onCancel?: () => void;
}) {
  const [name, setName] = useState('');
  const [maxCount, setMaxCount] = useState(String(limit?.maxCount ?? 1));
  const [per, setPer] = useState<'TASK' | 'MACHINE'>(limit?.per ?? 'TASK');
  const [description, setDescription] = useState(limit?.description ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const save = async () => {
    const count = Number(maxCount);
    if (maxCount.trim() === '' || !Number.isInteger(count) || count < 0) {
      setError('Type how many may be in use at once: a whole number, 0 or more.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const body = { maxCount: count, per, description };
      onSaved(
        limit
          ? await operatorApi.updateLimit(limit.name, body)
          : await operatorApi.createLimit({ name: name.trim(), ...body }),
      );
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="limit-form inline-form"
      aria-label={limit ? `Change limit ${limit.name}` : 'New limit'}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {!limit && (
        <label>
          Name
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. nuke-licence"
            maxLength={64}
            required
          />
        </label>
      )}
      <label>
        Max
        <input
          value={maxCount}
          onChange={(e) => setMaxCount(e.target.value)}
          inputMode="numeric"
          size={6}
        />
      </label>
      <label>
        Counted per
        <select value={per} onChange={(e) => setPer(e.target.value as 'TASK' | 'MACHINE')}>
          <option value="TASK">task</option>
          <option value="MACHINE">machine</option>
        </select>
      </label>
      <label className="grow">
        Description
        <input
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          maxLength={1000}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {limit ? 'Save' : 'Create'}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/**
 * Limits (floating licences and other shared things): what each has in use against its
 * maximum, live. Anyone reads them; an admin creates, changes and deletes them.
 */
export function LimitsPage() {
  const limits = useLoad(() => operatorApi.limits(), []);
  const me = useLoad(() => api.whoami(), []);
  const isAdmin = me.data?.role === 'admin';
  const [editing, setEditing] = useState<string>();
  const [notice, setNotice] = useState<NoticeText>();
  const refresh = useThrottle(limits.reload, 2000);
  // Use moves with executions; a change of a limit comes with the audit event of it.
  const live = useEvents(['execution', 'audit'], refresh);

  const [confirmation, setConfirmation] = useState<Confirmation>();
  const closeDialog = useCallback(() => setConfirmation(undefined), []);

  const ask = (limit: Limit) =>
    setConfirmation({
      title: `Delete limit ${limit.name}?`,
      body: 'Jobs that name it wait until a limit of that name exists again.',
      names: [limit.name],
      confirmLabel: 'Delete limit',
      onConfirm: () => void remove(limit),
    });

  const remove = async (limit: Limit) => {
    try {
      await operatorApi.deleteLimit(limit.name);
      setNotice({ text: `Deleted limit ${limit.name}.`, failed: false });
      limits.reload();
    } catch (error) {
      setNotice({ text: describeError(error), failed: true });
    }
  };

  const items = limits.data?.items ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Limits</h1>
        <LiveBadge live={live} />
      </div>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={limits.error} onRetry={limits.reload} />
      <div className="table-wrap">
        <table className="limits">
          <thead>
            <tr>
              <th>Name</th>
              <th>In use / max</th>
              <th>Per</th>
              <th>Nodes</th>
              <th>Description</th>
              {isAdmin && <th />}
            </tr>
          </thead>
          <tbody>
            {items.map((l) =>
              editing === l.name ? (
                <tr key={l.name} data-limit={l.name}>
                  <td>{l.name}</td>
                  <td colSpan={isAdmin ? 5 : 4}>
                    <LimitForm
                      limit={l}
                      onCancel={() => setEditing(undefined)}
                      onSaved={(saved) => {
                        setEditing(undefined);
                        setNotice({ text: `Saved limit ${saved.name}.`, failed: false });
                        limits.reload();
                      }}
                    />
                  </td>
                </tr>
              ) : (
                <tr key={l.name} data-limit={l.name}>
                  <td>{l.name}</td>
                  <td data-column="use">
                    <Use limit={l} />
                  </td>
                  <td>{l.per.toLowerCase()}</td>
                  <td>
                    {l.nodeList.mode === 'NONE' ? (
                      <span className="muted">any</span>
                    ) : (
                      `${l.nodeList.mode === 'ALLOW' ? 'only' : 'not'} ${l.nodeList.nodes.join(', ')}`
                    )}
                  </td>
                  <td>{l.description || <span className="muted">—</span>}</td>
                  {isAdmin && (
                    <td className="row-actions">
                      <button type="button" onClick={() => setEditing(l.name)}>
                        Edit
                      </button>
                      <button type="button" className="danger" onClick={() => ask(l)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ),
            )}
            {!limits.loading && items.length === 0 && (
              <tr>
                <td colSpan={isAdmin ? 6 : 5} className="empty">
                  No limits. {isAdmin ? 'Create one below' : 'An admin can create one'}, then name
                  it in a job&apos;s <code>limits</code>.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {isAdmin && (
        <section className="card">
          <h2>New limit</h2>
          <LimitForm
            onSaved={(saved) => {
              setNotice({ text: `Created limit ${saved.name}.`, failed: false });
              limits.reload();
            }}
          />
        </section>
      )}
      <ConfirmDialog confirmation={confirmation} onClose={closeDialog} />
    </div>
  );
}
