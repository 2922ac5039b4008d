import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { readLog } from '../../engine/executions/execution-logs.js';
import { findExecution } from '../../store/executions.js';
import { findNode } from '../../store/nodes.js';
import { notFoundError, Params, ScaleError, scaleTime } from './params.js';
import { clusterId } from './serializers.js';
import { ID } from './v6-jobs.js';

/*
 * GET /v6/job-executions/{id}/logs/{stdout|stderr|combined}/ served from Drover's log
 * batches. json is the shape of the Elasticsearch answer Scale passes through (clients read
 * hits.hits[]._source); txt joins the messages; html colours stderr. Scale's logs are the
 * process's own output, so the worker's lines (`drover: … runs …`) are left out of every
 * route, and a process that printed nothing answers 204 as in Scale.
 */

const MAX_LINES = 10_000;
type Format = 'json' | 'txt' | 'html';

function formatOf(query: Record<string, unknown>, accept: string | undefined): Format {
  const format = query.format;
  if (format !== undefined) {
    const f = String(Array.isArray(format) ? format[format.length - 1] : format);
    if (f === 'json' || f === 'txt' || f === 'html') return f;
    throw new ScaleError(406, `${f} is not a valid content type request.`);
  }
  if (!accept) return 'json';
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]!.trim();
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'json';
    if (type === 'text/plain') return 'txt';
    if (type === 'text/html' || type === 'text/*') return 'html';
  }
  throw new ScaleError(406, `${accept} is not a valid content type request.`);
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The log routes below `base`: v6's /job-executions, or the legacy prefix's own root. */
export function v6LogRoutes(engine: Engine, base = '/job-executions'): FastifyPluginAsync {
  const { ctx } = engine;
  return async (app) => {
    app.get(`${base}/${ID}/logs/:log(^(stdout|stderr|combined)$)/`, async (request, reply) => {
      const id = Number((request.params as { id: string }).id);
      const log = (request.params as { log: 'stdout' | 'stderr' | 'combined' }).log;
      const execution = await findExecution(ctx.db, id);
      if (!execution) throw notFoundError();
      const started = new Params(request, ctx.clock()).timestamp('started');
      const format = formatOf(request.query as Record<string, unknown>, request.headers.accept);
      const page = await readLog(ctx, id, 0, MAX_LINES);
      const lines = page.lines
        .filter((l) => l.stream !== 'worker')
        .filter((l) => log === 'combined' || l.stream === log)
        .filter((l) => started === undefined || l.time >= started)
        .sort((a, b) => a.time - b.time || a.line - b.line);
      if (execution.started_at === null || lines.length === 0) return reply.status(204).send();
      if (format === 'txt') {
        return reply.type('text/plain; charset=utf-8').send(lines.map((l) => l.text).join('\n'));
      }
      if (format === 'html') {
        const body = lines
          .map((l) => `<div class="${l.stream}">${escapeHtml(l.text)}</div>\n`)
          .join('');
        return reply
          .type('text/html; charset=utf-8')
          .send(
            `<html><head><style>.stdout {} .stderr {color: red;}</style></head><body>${body}</body></html>`,
          );
      }
      const node = await findNode(ctx.db, execution.node_id);
      const cluster = clusterId(execution);
      return {
        took: 0,
        timed_out: false,
        hits: {
          total: lines.length,
          max_score: null,
          hits: lines.map((l) => ({
            _index: 'scalelogs-drover',
            _type: 'doc',
            _id: `${execution.id}-${l.line}`,
            _score: null,
            _source: {
              message: l.text,
              '@timestamp': scaleTime(l.time),
              scale_order_num: l.line,
              scale_task: execution.id,
              scale_job_exe: cluster,
              scale_node: node?.hostname ?? null,
              stream: l.stream,
            },
            sort: [l.time, l.line],
          })),
        },
      };
    });
  };
}
