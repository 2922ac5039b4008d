import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { PathMappingRule } from '../../domain/path-mapping-rules.js';
import type { Engine } from '../../engine/engine.js';
import {
  addPathMappingRule,
  getPathMappingRules,
  listPathMappingRules,
  MAX_POOL_PATH_MAPPING_RULES,
  MAX_RULE_PATH,
  removePathMappingRule,
  setPathMappingRules,
} from '../../engine/pools/path-mapping.js';
import { MAX_POOL_NAME } from '../../engine/pools/pools.js';
import { errorResponses } from './schemas.js';

/*
 * A pool's path mapping rules (docs/workers.md#path-mapping): OpenJD `pathmapping-1.0`
 * rules the server holds for the nodes of a pool, as Deadline Cloud's storage profiles do,
 * carried by every work order of the pool's jobs. A pool's rules read and write as a
 * `pathmapping-1.0` document, so what `GET` answers is a worker's --path-mapping-rules file.
 * Anyone may read them; only admins change them (permission-table.ts).
 */

const VERSION = 'pathmapping-1.0' as const;

export const PathMappingRuleSchema = Type.Object(
  {
    source_path_format: Type.String({
      maxLength: 10,
      description: 'POSIX or WINDOWS (any case): how the source path is matched',
    }),
    source_path: Type.String({
      minLength: 1,
      maxLength: MAX_RULE_PATH,
      description: 'An absolute path as submitters write it',
    }),
    destination_path: Type.String({
      minLength: 1,
      maxLength: MAX_RULE_PATH,
      description: "Where that path is found on the pool's nodes (absolute)",
    }),
  },
  { additionalProperties: false },
);

const RulesDocument = Type.Object({
  version: Type.Literal(VERSION),
  path_mapping_rules: Type.Array(PathMappingRuleSchema),
});

const NameParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: MAX_POOL_NAME }) },
  { additionalProperties: false },
);

const document = (rules: PathMappingRule[]) => ({ version: VERSION, path_mapping_rules: rules });
const url = (name: string) => `/api/v1/pools/${encodeURIComponent(name)}/path-mapping-rules`;

export function pathMappingRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/path-mapping-rules',
      {
        schema: {
          tags: ['pools'],
          summary: 'Every pool that holds path mapping rules, with its rules',
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  pool: Type.String(),
                  path_mapping_rules: Type.Array(PathMappingRuleSchema),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async () => ({
        items: (await listPathMappingRules(ctx)).map((p) => ({
          pool: p.pool,
          path_mapping_rules: p.rules,
        })),
      }),
    );

    app.get(
      '/pools/:name/path-mapping-rules',
      {
        schema: {
          tags: ['pools'],
          summary:
            "A pool's path mapping rules, as a pathmapping-1.0 document (a worker's --path-mapping-rules file)",
          params: NameParams,
          response: { 200: RulesDocument, ...errorResponses },
        },
      },
      async (request) => document(await getPathMappingRules(ctx, request.params.name)),
    );

    app.put(
      '/pools/:name/path-mapping-rules',
      {
        schema: {
          tags: ['pools'],
          summary: "Replace a pool's path mapping rules (a pathmapping-1.0 document)",
          description:
            'Every work order of a job of the pool carries them from the next claim on. The ' +
            "worker maps each PATH parameter by them and its own file's rules (docs/workers.md).",
          params: NameParams,
          body: Type.Object(
            {
              version: Type.Optional(Type.Literal(VERSION)),
              path_mapping_rules: Type.Array(PathMappingRuleSchema, {
                maxItems: MAX_POOL_PATH_MAPPING_RULES,
              }),
            },
            { additionalProperties: false },
          ),
          response: { 200: RulesDocument, ...errorResponses },
        },
      },
      async (request) =>
        document(
          await setPathMappingRules(ctx, request.params.name, request.body.path_mapping_rules),
        ),
    );

    app.post(
      '/pools/:name/path-mapping-rules',
      {
        schema: {
          tags: ['pools'],
          summary: "Add a path mapping rule after the pool's others",
          params: NameParams,
          body: PathMappingRuleSchema,
          response: { 201: RulesDocument, ...errorResponses },
        },
      },
      async (request, reply) => {
        const rules = await addPathMappingRule(ctx, request.params.name, request.body);
        return reply.status(201).header('location', url(request.params.name)).send(document(rules));
      },
    );

    app.delete(
      '/pools/:name/path-mapping-rules/:index',
      {
        schema: {
          tags: ['pools'],
          summary: "Remove one of a pool's path mapping rules (0-based, in their order)",
          params: Type.Object(
            {
              name: NameParams.properties.name,
              index: Type.Integer({ minimum: 0, maximum: MAX_POOL_PATH_MAPPING_RULES - 1 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: RulesDocument, ...errorResponses },
        },
      },
      async (request) =>
        document(await removePathMappingRule(ctx, request.params.name, request.params.index)),
    );

    app.delete(
      '/pools/:name/path-mapping-rules',
      {
        schema: {
          tags: ['pools'],
          summary: "Remove all of a pool's path mapping rules",
          params: NameParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await setPathMappingRules(ctx, request.params.name, []);
        return reply.status(204).send(null);
      },
    );
  };
}
