import { Type } from '@sinclair/typebox';
import {
  MAX_ATTRIBUTE_VALUES,
  MAX_CAPABILITIES,
  MAX_VALUE_LENGTH,
} from '../../domain/host-capabilities.js';
import { NODE_STATUSES } from '../../domain/node-status.js';
import { Resources } from './job-schemas.js';
import { StringEnum, Time } from './schemas.js';
import { LatestTelemetry } from './telemetry-schemas.js';

/* The schema of a worker node as the native API shows it. */

/**
 * What a worker reports of itself beyond its resources (OpenJD capabilities,
 * docs/openjd.md#host-requirements); names and attribute values in lower case.
 */
export const HostCapabilities = Type.Object(
  {
    attributes: Type.Record(
      Type.String(),
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_VALUE_LENGTH }), {
        minItems: 1,
        maxItems: MAX_ATTRIBUTE_VALUES,
      }),
      {
        maxProperties: MAX_CAPABILITIES,
        description:
          'attr.NAME: its values, as attr.worker.os.family (windows, linux, macos) and attr.worker.cpu.arch (x86_64, arm64)',
      },
    ),
    amounts: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      maxProperties: MAX_CAPABILITIES,
      description:
        'amount.worker.NAME: a number, as amount.worker.gpu.memory (MiB); vcpu, memory, gpu and disk.scratch are its resources',
    }),
  },
  { additionalProperties: false },
);

export const Node = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    hostname: Type.String(),
    state: Type.String({ description: 'ONLINE while it reports, OFFLINE once silent' }),
    status: StringEnum(NODE_STATUSES, {
      description:
        'What it is doing: OFFLINE (silent), QUARANTINED (its failure rate took it out of the farm), DISABLED (takes no new work), BUSY (runs an execution), IDLE',
    }),
    enabled: Type.Boolean(),
    quarantine: Type.Union(
      [
        Type.Object({
          since: Type.String({ format: 'date-time' }),
          reason: Type.String(),
        }),
        Type.Null(),
      ],
      {
        description:
          'Set while its failure rate keeps it out of the farm (docs/scheduling.md#quarantine); clear it with DELETE /nodes/{id}/quarantine',
      },
    ),
    pools: Type.Array(Type.String()),
    groups: Type.Array(Type.String()),
    membershipsSetBy: Type.Object(
      {
        pools: StringEnum(['worker', 'admin'] as const),
        groups: StringEnum(['worker', 'admin'] as const),
      },
      {
        description:
          "Whose lists the node serves: an admin's stick when the worker registers again, until PATCH sets them to null",
      },
    ),
    resources: Resources,
    capabilities: HostCapabilities,
    slots: Type.Integer(),
    currentExecutions: Type.Array(Type.Integer()),
    lastHeartbeat: Time,
    createdAt: Time,
    telemetry: LatestTelemetry,
  },
  { $id: 'Node' },
);
