import type { FastifyRequest } from 'fastify';

/** This request's path and query with `set` replacing (or adding) query parameters. */
export function linkWith(request: FastifyRequest, set: Record<string, string | number>): string {
  const url = new URL(request.url, 'http://drover.invalid');
  for (const [name, value] of Object.entries(set)) url.searchParams.set(name, String(value));
  return `${url.pathname}${url.search}`;
}

/**
 * The `next` of an offset-paged list: this request's path and query with `offset` moved past
 * the page, or null when the page reached the end. A client follows it as is (same filters,
 * same page size) until it is null, so it never has to count offsets itself.
 */
export function nextLink(
  request: FastifyRequest,
  page: { count: number; total: number; limit: number; offset: number },
): string | null {
  const nextOffset = page.offset + page.count;
  if (page.count === 0 || nextOffset >= page.total) return null;
  return linkWith(request, { limit: page.limit, offset: nextOffset });
}

/**
 * One page of a list read whole: the admin-made lists (pools, limits, grants, tokens,
 * notification rules, a job's outputs) are small, and their `next` works as the others'.
 */
export function pageOfList<T>(
  request: FastifyRequest,
  all: readonly T[],
  query: { limit?: number | undefined; offset?: number | undefined },
  defaultLimit: number,
) {
  const limit = query.limit ?? defaultLimit;
  const offset = query.offset ?? 0;
  const items = all.slice(offset, offset + limit);
  const total = all.length;
  return {
    items,
    total,
    limit,
    offset,
    next: nextLink(request, { count: items.length, total, limit, offset }),
  };
}

/**
 * The `next` of a newest-first log paged by id (`before`): rows that arrive meanwhile do
 * not shift the pages, as they would an offset. `rows` were read with one more than `limit`
 * to tell whether another page follows.
 */
export function beforePage<T extends { id: number }>(
  request: FastifyRequest,
  rows: readonly T[],
  limit: number,
): { rows: T[]; next: string | null } {
  const page = rows.slice(0, limit);
  const more = rows.length > limit && page.length > 0;
  return { rows: page, next: more ? linkWith(request, { limit, before: page.at(-1)!.id }) : null };
}
