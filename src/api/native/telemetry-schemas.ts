import { Type } from '@sinclair/typebox';
import {
  MAX_GPU_NAME,
  MAX_GPUS,
  MAX_VERSION,
  TELEMETRY_BOUNDS as B,
} from '../../domain/node-telemetry.js';

/** What a worker reports of its machine with a heartbeat; every figure bounded. */
const telemetryFields = {
  cpuPercent: Type.Optional(
    Type.Number({ ...B.cpuPercent, description: 'Busy share of all CPUs since the last report' }),
  ),
  memUsedBytes: Type.Optional(
    Type.Integer({ ...B.memUsedBytes, description: 'Memory in use (total less available)' }),
  ),
  memTotalBytes: Type.Optional(Type.Integer(B.memTotalBytes)),
  load1: Type.Optional(Type.Number(B.load1)),
  load5: Type.Optional(Type.Number(B.load5)),
  load15: Type.Optional(Type.Number(B.load15)),
  diskFreeBytes: Type.Optional(
    Type.Integer({ ...B.diskFreeBytes, description: "Free space of the worker's work directory" }),
  ),
  diskTotalBytes: Type.Optional(Type.Integer(B.diskTotalBytes)),
  gpus: Type.Optional(
    Type.Array(
      Type.Object(
        {
          index: Type.Integer(B.gpuIndex),
          name: Type.Optional(Type.String({ maxLength: MAX_GPU_NAME })),
          utilizationPercent: Type.Optional(Type.Number(B.gpuPercent)),
          memUsedBytes: Type.Optional(Type.Integer(B.memUsedBytes)),
          memTotalBytes: Type.Optional(Type.Integer(B.memTotalBytes)),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: MAX_GPUS,
        description: 'Only where the machine has a GPU meter (nvidia-smi); absent otherwise',
      },
    ),
  ),
  uptimeSeconds: Type.Optional(Type.Number({ ...B.uptimeSeconds, description: "The machine's" })),
  version: Type.Optional(
    Type.String({
      maxLength: MAX_VERSION,
      pattern: '^[\\x21-\\x7e]+$',
      description: "The worker's version",
    }),
  ),
};

export const TelemetryReport = Type.Object(telemetryFields, {
  additionalProperties: false,
  description:
    'The machine now, at most every 5 s (more often is dropped): leave out what cannot be read',
});

/** The node's latest report, as shown on the node. */
export const LatestTelemetry = Type.Union([
  Type.Object({
    ...telemetryFields,
    reportedAt: Type.String({ format: 'date-time' }),
  }),
  Type.Null(),
]);

const Mean = Type.Unsafe<number | null>({ type: ['number', 'null'] });

/** A point of the history: means over its step. */
export const TelemetryPointJson = Type.Object({
  at: Type.String({ format: 'date-time', description: 'The start of the step' }),
  samples: Type.Integer({ description: 'Reports averaged' }),
  cpuPercent: Mean,
  memUsedBytes: Mean,
  memTotalBytes: Mean,
  load1: Mean,
  diskFreeBytes: Mean,
  gpuPercent: Mean,
  gpuMemUsedBytes: Mean,
});
