import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../domain/errors.js';
import { TELEMETRY_STEPS } from '../../domain/node-telemetry.js';
import type { Engine } from '../../engine/engine.js';
import { nodeTelemetryHistory } from '../../engine/nodes/node-telemetry.js';
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
        const rows = await nodeTelemetryHistory(ctx, {
          nodeId: request.params.id,
          stepS,
          from,
          to,
          limit: request.query.limit ?? 360,
        });
        return {
          step,
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
