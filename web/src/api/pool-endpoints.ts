import { request } from './client';

/* Pools: their scheduling modes (/pools) and path mapping rules (/pools/{name}/path-mapping-rules). */

export interface PathMappingRule {
  source_path_format: string;
  source_path: string;
  destination_path: string;
}

export interface RulesDocument {
  version: string;
  path_mapping_rules: PathMappingRule[];
}

export interface PoolSetting {
  name: string;
  mode: 'priority' | 'balanced' | 'weighted';
  description: string;
  shares: { user: string }[];
}

const rulesPath = (pool: string) => `/pools/${encodeURIComponent(pool)}/path-mapping-rules`;

export const poolApi = {
  pools: () => request<{ items: PoolSetting[] }>('GET', '/pools?limit=100'),
  pathMappings: () =>
    request<{ items: { pool: string; path_mapping_rules: PathMappingRule[] }[] }>(
      'GET',
      '/path-mapping-rules',
    ),
  addRule: (pool: string, rule: PathMappingRule) =>
    request<RulesDocument>('POST', rulesPath(pool), rule),
  removeRule: (pool: string, index: number) =>
    request<RulesDocument>('DELETE', `${rulesPath(pool)}/${index}`),
};
