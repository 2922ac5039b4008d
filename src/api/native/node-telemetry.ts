import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { TELEMETRY_STEPS } from '../../domain/node-telemetry.js';
import type { Engine } from '../../engine/engine.js';
import { nodeTelemetryHistory } from '../../engine/nodes/node-telemetry.js';
import { linkWith } from './page-links.js';
import { errorResponses, IdParams } from './schemas.js';
import { TelemetryPointJson } from './telemetry-schemas.js';

const STEPS = { '10s': 10, '5m': 300 } as const;
const MAX_POINTS = 10_000;

/** A node's telemetry history: GET /nodes/{id}/telemetry. */
export function nodeTelemetryRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/nodes/:id/telemetry',
      {
        schema: {
          tags: ['nodes'],
          summary:
            "A node's telemetry history: means over 10 s steps (kept a day) or 5 min steps (kept 90 days)",
          params: IdParams,
          querystring: Type.Object(
            {
              step: Type.Optional(
                Type.Union([Type.Literal('10s'), Type.Literal('5m')], { default: '10s' }),
              ),
              from: Type.Optional(
                Type.String({ format: 'date-time', description: 'Default: one step kept ago' }),
              ),
              to: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POINTS, default: 360 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              step: Type.String(),
              items: Type.Array(TelemetryPointJson),
              limit: Type.Integer(),
              next: Type.Unsafe<string | null>({
                type: ['string', 'null'],
                description:
                  'The path and query of the points after these (same step, same `to`); null when none are left',
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const step = request.query.step ?? '10s';
        const stepS = STEPS[step];
        const now = ctx.clock();
        const keep = TELEMETRY_STEPS.find((s) => s.stepS === stepS)!.keepMs;
        const from = request.query.from ? Date.parse(request.query.from) : now - keep;
        const to = request.query.to ? Date.parse(request.query.to) : now + 1;
        if (!(from < to)) throw invalid('from must be before to');
        const limit = request.query.limit ?? 360;
        const read = await nodeTelemetryHistory(ctx, {
          nodeId: request.params.id,
          stepS,
          from,
          to,
          limit: limit + 1,
        });
        const rows = read.slice(0, limit);
        // The next page starts just after this one's last point and keeps this one's end,
        // so a walk ends even when `to` was left to default to now.
        const next =
          read.length > limit
            ? linkWith(request, {
                step,
                from: new Date(rows.at(-1)!.bucket_at + 1).toISOString(),
                to: new Date(to).toISOString(),
                limit,
              })
            : null;
        return {
          step,
          limit,
          next,
          items: rows.map((r) => ({
            at: new Date(r.bucket_at).toISOString(),
            samples: r.samples,
            cpuPercent: r.cpu_percent,
            memUsedBytes: r.mem_used_bytes,
            memTotalBytes: r.mem_total_bytes,
            load1: r.load1,
            diskFreeBytes: r.disk_free_bytes,
            gpuPercent: r.gpu_percent,
            gpuMemUsedBytes: r.gpu_mem_used_bytes,
          })),
        };
      },
    );
  };
}
