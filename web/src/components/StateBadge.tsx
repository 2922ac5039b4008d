export function StateBadge({ state, deleted }: { state: string; deleted?: boolean }) {
  return (
    <span className={`badge state-${state.toLowerCase()}`} data-state={state}>
      {state.toLowerCase()}
      {deleted ? ' · deleted' : ''}
    </span>
  );
}
