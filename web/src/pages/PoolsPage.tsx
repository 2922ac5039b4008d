import { useState } from 'react';
import { api } from '../api/endpoints';
import { poolApi, type PathMappingRule, type PoolSetting } from '../api/pool-endpoints';
import { describeError, ErrorMessage } from '../components/ErrorMessage';
import { Notice, type NoticeText } from '../components/Notice';
import { useLoad } from '../lib/hooks';

/*
 * Pools: each pool with a scheduling mode (docs/scheduling.md) or path mapping rules
 * (docs/workers.md#path-mapping): where a submitter's path is found on the pool's nodes,
 * carried by every work order of the pool's jobs. Anyone reads them; an admin adds and
 * removes rules here (the modes are set with `drover pool set`).
 */

interface PoolRow {
  name: string;
  setting?: PoolSetting;
  rules: PathMappingRule[];
}

/** An admin's form for one more rule of a pool (a new pool by naming it). */
function RuleForm({ onSaved }: { onSaved: (pool: string) => void }) {
  const [pool, setPool] = useState('');
  const [format, setFormat] = useState('POSIX');
  const [source, setSource] = useState('');
  const [destination, setDestination] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const save = async () => {
    if (pool.trim() === '') {
      setError('Name the pool the rule is for.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await poolApi.addRule(pool.trim(), {
        source_path_format: format,
        source_path: source,
        destination_path: destination,
      });
      setSource('');
      setDestination('');
      onSaved(pool.trim());
    } catch (e) {
      // The server names the rule's field at fault and what is wrong with it.
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="limit-form inline-form"
      aria-label="New path mapping rule"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Pool
        <input value={pool} onChange={(e) => setPool(e.target.value)} maxLength={100} />
      </label>
      <label>
        Source format
        <select value={format} onChange={(e) => setFormat(e.target.value)}>
          <option value="POSIX">POSIX</option>
          <option value="WINDOWS">WINDOWS</option>
        </select>
      </label>
      <label className="grow">
        Source path
        <input
          value={source}
          onChange={(e) => setSource(e.target.value)}
          placeholder="as submitters write it: /Volumes/projects or P:\projects"
          maxLength={1024}
        />
      </label>
      <label className="grow">
        Destination path
        <input
          value={destination}
          onChange={(e) => setDestination(e.target.value)}
          placeholder="where it is on the pool's nodes: /mnt/projects"
          maxLength={1024}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Add rule
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

export function PoolsPage() {
  const pools = useLoad(async () => {
    const [settings, mappings] = await Promise.all([poolApi.pools(), poolApi.pathMappings()]);
    const rows = new Map<string, PoolRow>();
    for (const s of settings.items) rows.set(s.name, { name: s.name, setting: s, rules: [] });
    for (const m of mappings.items) {
      const row = rows.get(m.pool) ?? { name: m.pool, rules: [] };
      row.rules = m.path_mapping_rules;
      rows.set(m.pool, row);
    }
    return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, []);
  const me = useLoad(() => api.whoami(), []);
  const isAdmin = me.data?.role === 'admin';
  const [notice, setNotice] = useState<NoticeText>();

  const remove = async (pool: string, index: number, rule: PathMappingRule) => {
    try {
      await poolApi.removeRule(pool, index);
      setNotice({ text: `Removed ${rule.source_path} from pool ${pool}.`, failed: false });
    } catch (e) {
      setNotice({ text: describeError(e), failed: true });
    }
    pools.reload();
  };

  const rows = pools.data ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Pools</h1>
      </div>
      <p className="muted">
        Pools with a scheduling mode or path mapping rules; any other pool schedules by priority and
        maps no path. Each task of a pool&apos;s jobs takes the pool&apos;s rules to its node, which
        adds its own (<code>--path-mapping-rules</code>).
      </p>
      <Notice notice={notice} onClose={() => setNotice(undefined)} />
      <ErrorMessage error={pools.error} onRetry={pools.reload} />
      <div className="table-wrap">
        <table className="pools">
          <thead>
            <tr>
              <th>Pool</th>
              <th>Mode</th>
              <th>Path mapping rules</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.name} data-pool={p.name}>
                <td>{p.name}</td>
                <td>
                  {p.setting?.mode ?? 'priority'}
                  {p.setting?.description ? (
                    <span className="muted"> ({p.setting.description})</span>
                  ) : null}
                </td>
                <td>
                  {p.rules.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ol className="path-rules" start={0}>
                      {p.rules.map((r, i) => (
                        <li key={`${i} ${r.source_path}`} data-rule={i}>
                          <span className="muted">{r.source_path_format}</span>{' '}
                          <code>{r.source_path}</code> → <code>{r.destination_path}</code>
                          {isAdmin && (
                            <button
                              type="button"
                              className="danger"
                              aria-label={`Remove ${r.source_path} from pool ${p.name}`}
                              onClick={() => void remove(p.name, i, r)}
                            >
                              Remove
                            </button>
                          )}
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
              </tr>
            ))}
            {!pools.loading && rows.length === 0 && (
              <tr>
                <td colSpan={3} className="empty">
                  No pool has a setting or rules.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {isAdmin && (
        <section className="card">
          <h2>New path mapping rule</h2>
          <RuleForm
            onSaved={(pool) => {
              setNotice({ text: `Added a path mapping rule to pool ${pool}.`, failed: false });
              pools.reload();
            }}
          />
        </section>
      )}
    </div>
  );
}
