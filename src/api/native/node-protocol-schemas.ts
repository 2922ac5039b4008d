import { Type, type Static } from '@sinclair/typebox';
import { USAGE_BOUNDS } from '../../domain/execution-usage.js';
import { MAX_ID } from '../../domain/job-bounds.js';
import { MAX_PREFERRED_JOBS } from '../../engine/dispatch/claim-walk.js';
import type { FinishReport } from '../../engine/executions/execution-batches.js';

/** Every report names the node that makes it. */
export const NodeRef = Type.Object({ nodeId: Type.Integer({ minimum: 1, maximum: MAX_ID }) });

/** How a command ended: one finish call, or one item of a batch of finishes. */
export const FinishFields = Type.Object({
  success: Type.Boolean(),
  // One type list, not a union: with type coercion on, a union's first branch would turn
  // null into 0 (or 0 into null); a list coerces only what matches neither.
  exitCode: Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'] })),
  error: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.String({ description: 'A registered error name' })),
      category: Type.Optional(
        Type.Union([Type.Literal('SYSTEM'), Type.Literal('DATA'), Type.Literal('ALGORITHM')]),
      ),
      message: Type.Optional(Type.String({ maxLength: 10000 })),
    }),
  ),
  timedOut: Type.Optional(
    Type.Boolean({
      description:
        'The command ran past the task timeout. With success: it was killed and counted done (COMPLETE) or ran on to its end (NOTIFY); the execution is flagged timed out',
    }),
  ),
  usage: Type.Optional(
    Type.Object(
      {
        cpuSeconds: Type.Optional(
          Type.Number({ ...USAGE_BOUNDS.cpuSeconds, description: 'User + system CPU time' }),
        ),
        wallSeconds: Type.Optional(
          Type.Number({ ...USAGE_BOUNDS.wallSeconds, description: 'From launch to exit' }),
        ),
        peakMemoryBytes: Type.Optional(
          Type.Integer({ ...USAGE_BOUNDS.peakMemoryBytes, description: 'Peak resident memory' }),
        ),
        gpuSeconds: Type.Optional(Type.Number({ ...USAGE_BOUNDS.gpuSeconds })),
      },
      {
        additionalProperties: false,
        description:
          'What the command used, of all its processes, as the node measured it; leave out what it could not measure',
      },
    ),
  ),
});

/** A finish as the engine takes it, from the fields a node sent. */
export function finishReport(executionId: number, f: Static<typeof FinishFields>): FinishReport {
  return {
    executionId,
    success: f.success,
    ...(f.exitCode !== undefined ? { exitCode: f.exitCode } : {}),
    ...(f.timedOut !== undefined ? { timedOut: f.timedOut } : {}),
    ...(f.usage ? { usage: f.usage } : {}),
    ...(f.error
      ? {
          failure: {
            ...(f.error.name ? { errorName: f.error.name } : {}),
            ...(f.error.category ? { category: f.error.category } : {}),
            ...(f.error.message ? { message: f.error.message } : {}),
          },
        }
      : {}),
  };
}

/** Session affinity: the jobs a node holds sessions of (docs/scheduling.md#session-affinity). */
export const Prefer = Type.Array(Type.Integer({ minimum: 1, maximum: MAX_ID }), {
  maxItems: MAX_PREFERRED_JOBS,
  description:
    'Jobs whose sessions this node holds (an OpenJD job, or one of its steps): their queued ' +
    'tasks, and those of their child jobs, are taken ahead of other jobs of the same ' +
    'priority; a job of a higher priority still comes first',
});
