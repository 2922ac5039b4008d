/**
 * Reads what never changes once (a job type's revision, whether a job has a Seed manifest),
 * keeping at most 1,000 values per cache, then starting afresh. Each saved read is a round
 * trip on PostgreSQL on the dispatch path.
 */
export async function readOnce<V>(
  cache: Map<number, V>,
  id: number,
  read: () => Promise<V | undefined>,
): Promise<V | undefined> {
  const hit = cache.get(id);
  if (hit !== undefined) return hit;
  const value = await read();
  if (value === undefined) return undefined;
  if (cache.size >= 1000) cache.clear();
  cache.set(id, value);
  return value;
}
