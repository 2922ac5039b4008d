import type { FastifyRequest } from 'fastify';
import { ScaleError } from './params.js';

/*
 * DRF's PageNumberPagination as Scale configures it: page_size 100 by default, at most
 * 1000, a bad page_size silently means 100; a page past the end (or not a number) is 404
 * "Invalid page."; `page=last` is the last page. next/previous are absolute URLs of this
 * request with every query parameter re-encoded in key order; previous of page 2 drops
 * `page` altogether.
 */

export interface ScalePage<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

const MAX_OFFSET = 2_147_483_647;

function pageSizeOf(raw: unknown): number {
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof text !== 'string' || !/^\d+$/.test(text.trim())) return DEFAULT_PAGE_SIZE;
  const n = Number(text);
  if (n <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(n, MAX_PAGE_SIZE);
}

/** Python's urllib quote_plus, so links read as Scale's do. */
const quotePlus = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

function linkTo(request: FastifyRequest, page: number | null): string {
  const [path] = request.url.split('?');
  const entries: [string, string[]][] = [];
  const query = new URLSearchParams(request.url.slice((path?.length ?? 0) + 1));
  const keys = [...new Set(query.keys())].sort();
  for (const key of keys) {
    if (key === 'page') continue;
    entries.push([key, query.getAll(key)]);
  }
  if (page !== null) entries.push(['page', [String(page)]]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = entries.flatMap(([k, vs]) => vs.map((v) => `${quotePlus(k)}=${quotePlus(v)}`));
  const host = request.headers.host ?? request.hostname;
  return `${request.protocol}://${host}${path}${text.length ? `?${text.join('&')}` : ''}`;
}

/** Reads page and page_size, fetches that page, and builds Scale's body. */
export async function paginate<Row, Out>(
  request: FastifyRequest,
  fetch: (page: { limit: number; offset: number }) => Promise<{ rows: Row[]; total: number }>,
  render: (rows: Row[]) => Promise<Out[]> | Out[],
): Promise<ScalePage<Out>> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const size = pageSizeOf(query.page_size);
  const rawPage = Array.isArray(query.page) ? query.page[query.page.length - 1] : query.page;
  let page: number | 'last' = 1;
  if (rawPage !== undefined) {
    const text = String(rawPage).trim();
    if (text === 'last') page = 'last';
    else if (/^\d+$/.test(text) && Number(text) >= 1) page = Number(text);
    else throw new ScaleError(404, 'Invalid page.');
    // A page past 2^31 rows is past the end of any list; the database is not asked (an
    // offset past 64 bits was a 500 on PostgreSQL). DRF's answer for past the end.
    if (page !== 'last' && (page - 1) * size > MAX_OFFSET)
      throw new ScaleError(404, 'Invalid page.');
  }
  let result: { rows: Row[]; total: number };
  let number: number;
  if (page === 'last') {
    const first = await fetch({ limit: size, offset: 0 });
    number = Math.max(1, Math.ceil(first.total / size));
    result = number === 1 ? first : await fetch({ limit: size, offset: (number - 1) * size });
  } else {
    number = page;
    result = await fetch({ limit: size, offset: (number - 1) * size });
  }
  const pages = Math.max(1, Math.ceil(result.total / size));
  if (number > pages) throw new ScaleError(404, 'Invalid page.');
  return {
    count: result.total,
    next: number < pages ? linkTo(request, number + 1) : null,
    previous: number > 1 ? linkTo(request, number === 2 ? null : number - 1) : null,
    results: await render(result.rows),
  };
}
