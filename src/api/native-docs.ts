import type { FastifyInstance } from 'fastify';

/**
 * Keeps every route registered in `app`'s scope from now on out of `/docs/json`, the native
 * API's OpenAPI document. A dialect's routes carry no schemas and answer as the system they
 * imitate (whose own documentation describes them); listed, they buried the native paths
 * under every method of every dialect path, each twice with its trailing slash.
 */
export function keepOutOfNativeDocs(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
}
