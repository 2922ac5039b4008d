import { useState } from 'react';
import { ApiError } from '../api/client';
import { operatorApi } from '../api/operator-endpoints';
import type { DroverNode } from '../api/types';
import { describeError } from './ErrorMessage';

const split = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * An admin's form for the pools and groups a node serves (PATCH /nodes/:id). Empty means
 * "only jobs with none". The worker's own --pools/--groups replace these when it registers
 * again, which the form says.
 */
export function NodeMembershipsForm({
  node,
  onSaved,
  onCancel,
}: {
  node: DroverNode;
  onSaved: (node: DroverNode) => void;
  onCancel: () => void;
}) {
  const [pools, setPools] = useState(node.pools.join(', '));
  const [groups, setGroups] = useState(node.groups.join(', '));
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const save = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onSaved(
        await operatorApi.setNodeMemberships(node.id, {
          pools: split(pools),
          groups: split(groups),
        }),
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="memberships-form"
      aria-label={`Pools and groups of ${node.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Pools
        <input
          value={pools}
          onChange={(e) => setPools(e.target.value)}
          placeholder="none: pool-less jobs only"
          maxLength={4000}
        />
      </label>
      <label>
        Groups
        <input
          value={groups}
          onChange={(e) => setGroups(e.target.value)}
          placeholder="none: group-less jobs only"
          maxLength={4000}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <span className="muted hint">
        Comma-separated. The worker&apos;s own --pools and --groups replace these when it starts
        again.
      </span>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
