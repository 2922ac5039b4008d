/** Whether the page is receiving the server's events. */
export function LiveBadge({ live }: { live: boolean }) {
  return (
    <span
      className={`live ${live ? 'on' : 'off'}`}
      title={live ? 'Updates arrive as they happen' : 'Not receiving updates; reconnecting…'}
    >
      {live ? '● live' : '○ reconnecting'}
    </span>
  );
}
