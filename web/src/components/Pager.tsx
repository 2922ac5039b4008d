const SIZES = [25, 50, 100, 200];

/**
 * Pages of a list. Past 100,000 matches the server counts no further and its total is an
 * estimate (`exact` false): the pager then says "about", offers no last page, and goes on
 * while pages come back full.
 */
export function Pager({
  total,
  exact = true,
  shown,
  offset,
  limit,
  onPage,
  onSize,
  sizes = SIZES,
}: {
  total: number;
  exact?: boolean;
  /** Rows on this page; with an estimated total, a full page means there may be more. */
  shown?: number;
  offset: number;
  limit: number;
  onPage: (offset: number) => void;
  onSize?: (limit: number) => void;
  /** The page sizes offered. */
  sizes?: number[];
}) {
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const last = exact ? page >= pages : (shown ?? limit) < limit;
  const about = exact ? '' : 'about ';
  const end = exact ? Math.min(offset + limit, total) : offset + (shown ?? limit);
  return (
    <div className="pager">
      <span className="muted">
        {total === 0
          ? 'Nothing matches'
          : `${(offset + 1).toLocaleString()}–${end.toLocaleString()} of ${about}${total.toLocaleString()}`}
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
        Page {page.toLocaleString()} of {about}
        {pages.toLocaleString()}
      </span>
      <button
        type="button"
        disabled={last}
        onClick={() => onPage(offset + limit)}
        aria-label="Next page"
      >
        ›
      </button>
      <button
        type="button"
        disabled={last || !exact}
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
          {sizes.map((n) => (
            <option key={n} value={n}>
              {n} / page
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
