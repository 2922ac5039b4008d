import type { FastifyRequest } from 'fastify';

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
  const url = new URL(request.url, 'http://drover.invalid');
  url.searchParams.set('limit', String(page.limit));
  url.searchParams.set('offset', String(nextOffset));
  return `${url.pathname}${url.search}`;
}
