import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_ID } from '../../domain/job-bounds.js';
import type { Engine } from '../../engine/engine.js';
import {
  MAX_USAGE_GROUPS,
  usageReport,
  type UsageReport,
} from '../../engine/executions/usage-report.js';
import { linkWith } from './page-links.js';
import { errorResponses, Nullable, StringEnum } from './schemas.js';

/* GET /usage: CPU-, wall- and GPU-hours per user, pool, job type or job, as JSON or CSV. */

const DAY_MS = 24 * 3600_000;

const Figures = {
  executions: Type.Integer({ description: 'Executions that ended in the range' }),
  cpuHours: Type.Number({ description: 'User + system CPU time the nodes measured' }),
  wallHours: Type.Number({
    description: "The nodes' wall time; start to end for an execution without one",
  }),
  gpuHours: Nullable(Type.Number({ description: 'Null when no execution reported GPU time' })),
  peakMemoryBytes: Nullable(Type.Integer({ description: 'The largest peak of one execution' })),
};

const Query = Type.Object(
  {
    group: StringEnum(['user', 'pool', 'jobType', 'job'] as const, { default: 'user' }),
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'Default: 30 days before `to`' }),
    ),
    to: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Exclusive; default: the end of this second',
      }),
    ),
    format: Type.Optional(
      StringEnum(['json', 'csv'] as const, { description: 'Or ask with Accept: text/csv' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_USAGE_GROUPS,
        default: 1000,
        description: `Groups in the page: 1000 unless given, at most ${MAX_USAGE_GROUPS}`,
      }),
    ),
    offset: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_USAGE_GROUPS,
        default: 0,
        description: 'Groups to skip',
      }),
    ),
    job: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Only the executions of this job' }),
    ),
  },
  { additionalProperties: false },
);

export function usageRoutes(engine: Engine): FastifyPluginAsyncTypebox {
  const { ctx } = engine;
  return async (app) => {
    app.get(
      '/usage',
      {
        schema: {
          tags: ['usage'],
          summary:
            'Usage of the executions that ended in [from, to): yours, or everyone’s for an admin',
          querystring: Query,
          response: {
            200: Type.Object({
              group: Type.String(),
              from: Type.String({ format: 'date-time' }),
              to: Type.String({ format: 'date-time' }),
              user: Nullable(Type.String({ description: 'Whose jobs; null: everyone’s' })),
              items: Type.Array(Type.Object({ key: Type.String(), ...Figures })),
              totals: Type.Object(Figures),
              truncated: Type.Boolean({ description: 'More groups than `offset` + `limit`' }),
              limit: Type.Integer(),
              offset: Type.Integer(),
              next: Type.Unsafe<string | null>({
                type: ['string', 'null'],
                description:
                  'The path and query of the next groups (same range, pinned); null on the last page',
              }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const q: Static<typeof Query> = request.query;
        // By default up to now, this second included: the range's end is exclusive.
        const to =
          q.to !== undefined ? Date.parse(q.to) : (Math.floor(ctx.clock() / 1000) + 1) * 1000;
        const from = q.from !== undefined ? Date.parse(q.from) : to - 30 * DAY_MS;
        const limit = q.limit ?? 1000;
        const offset = q.offset ?? 0;
        const report = await usageReport(ctx, request.principal!, {
          group: q.group,
          from,
          to,
          limit,
          offset,
          ...(q.job !== undefined ? { jobId: q.job } : {}),
        });
        const csv =
          q.format === 'csv' || (q.format === undefined && wantsCsv(request.headers.accept));
        if (csv) {
          return (
            reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', `attachment; filename="usage-${q.group}.csv"`)
              // Not JSON: the schema above describes the JSON answer, and Fastify serialises only that.
              .send(toCsv(report) as never)
          );
        }
        const range = {
          from: new Date(report.from).toISOString(),
          to: new Date(report.to).toISOString(),
        };
        return {
          ...report,
          ...range,
          limit,
          offset,
          user: report.user ?? null,
          // The range is written out: a `to` left to default to now would move between pages.
          next: report.truncated
            ? linkWith(request, {
                ...range,
                limit,
                offset: offset + report.items.length,
              })
            : null,
        };
      },
    );
  };
}

function wantsCsv(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/csv\b/i.test(accept);
}

/** RFC 4180, with the totals last; a cell that a spreadsheet would run as a formula is quoted as text. */
export function toCsv(report: UsageReport): string {
  const cell = (value: string | number | null): string => {
    if (value === null) return '';
    let text = String(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [
    [report.group, 'executions', 'cpu_hours', 'wall_hours', 'gpu_hours', 'peak_memory_bytes'],
  ];
  const row = (key: string, f: UsageReport['totals']) => [
    key,
    f.executions,
    f.cpuHours,
    f.wallHours,
    f.gpuHours,
    f.peakMemoryBytes,
  ];
  for (const item of report.items) lines.push(row(item.key, item).map(cell));
  lines.push(row('(total)', report.totals).map(cell));
  return `${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}
