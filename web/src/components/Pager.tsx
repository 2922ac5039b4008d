const SIZES = [25, 50, 100, 200];

export function Pager({
  total,
  offset,
  limit,
  onPage,
  onSize,
}: {
  total: number;
  offset: number;
  limit: number;
  onPage: (offset: number) => void;
  onSize?: (limit: number) => void;
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <div className="pager">
      <span className="muted">
        {total === 0
          ? 'Nothing matches'
          : `${(offset + 1).toLocaleString()}–${Math.min(offset + limit, total).toLocaleString()} of ${total.toLocaleString()}`}
      </span>
      <button type="button" disabled={page <= 1} onClick={() => onPage(0)} aria-label="First page">
        «
      </button>
      <button
        type="button"
        disabled={page <= 1}
        onClick={() => onPage(Math.max(0, offset - limit))}
        aria-label="Previous page"
      >
        ‹
      </button>
      <span>
        Page {page.toLocaleString()} of {pages.toLocaleString()}
      </span>
      <button
        type="button"
        disabled={page >= pages}
        onClick={() => onPage(offset + limit)}
        aria-label="Next page"
      >
        ›
      </button>
      <button
        type="button"
        disabled={page >= pages}
        onClick={() => onPage((pages - 1) * limit)}
        aria-label="Last page"
      >
        »
      </button>
      {onSize && (
        <select
          aria-label="Rows per page"
          value={limit}
          onChange={(e) => onSize(Number(e.target.value))}
        >
          {SIZES.map((n) => (
            <option key={n} value={n}>
              {n} / page
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
