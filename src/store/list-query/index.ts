/* The store's one list query: see filter-tree.ts. */
export * from './filter-tree.js';
export { findRow, listRows, type ListResult } from './list-rows.js';
export type { ResourceName } from './list-fields.js';
export { exactTotalLimit } from './capped-count.js';
