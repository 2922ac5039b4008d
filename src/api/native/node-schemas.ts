import { Type } from '@sinclair/typebox';
import { NODE_STATUSES } from '../../domain/node-status.js';
import { Resources } from './job-schemas.js';
import { StringEnum, Time } from './schemas.js';
import { LatestTelemetry } from './telemetry-schemas.js';

/* The schema of a worker node as the native API shows it. */

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
    slots: Type.Integer(),
    currentExecutions: Type.Array(Type.Integer()),
    lastHeartbeat: Time,
    createdAt: Time,
    telemetry: LatestTelemetry,
  },
  { $id: 'Node' },
);
