import { Migrator, sql, type Migration, type MigrationResultSet } from 'kysely';
import type { OpenDatabase } from './database.js';
import { initialSchema } from './migrations/0001-initial.js';
import { scaleSchema } from './migrations/0002-scale.js';
import { ufdlSchema } from './migrations/0003-ufdl.js';
import { taskTimeoutActionSchema } from './migrations/0004-task-timeout-action.js';
import { errorExitCodesSchema } from './migrations/0005-error-exit-codes.js';
import { jobJsonOutputsSchema } from './migrations/0006-job-json-outputs.js';
import { jobSchedulesSchema } from './migrations/0007-job-schedules.js';
import { listIndexesSchema } from './migrations/0008-list-indexes.js';
import { dispatchIndexSchema } from './migrations/0009-dispatch-index.js';
import { nodeAccountsTokenExpirySchema } from './migrations/0010-node-accounts-token-expiry.js';
import { auditEventsSchema } from './migrations/0011-audit-events.js';
import { blobStorageSchema } from './migrations/0012-blob-storage.js';
import { userGrantsSchema } from './migrations/0013-user-grants.js';
import { jobProtectionSchema } from './migrations/0014-job-protection.js';
import { dispatchHotPathSchema } from './migrations/0015-dispatch-hot-path.js';
import { jobParentsSchema } from './migrations/0016-job-parents.js';
import { jobChildNamesSchema } from './migrations/0017-job-child-names.js';
import { machineLimitReleaseSchema } from './migrations/0018-machine-limit-release.js';
import { claimWalkSchema } from './migrations/0019-claim-walk.js';
import { notificationOutboxSchema } from './migrations/0020-notification-outbox.js';
import { liveExecutionsSchema } from './migrations/0021-live-executions.js';
import { executionUsageSchema } from './migrations/0022-execution-usage.js';
import { nodeTelemetrySchema } from './migrations/0023-node-telemetry.js';
import { taskParametersSchema } from './migrations/0024-task-parameters.js';
import { limitsSchema } from './migrations/0025-limits.js';
import { badNodesAndRetryDelaysSchema } from './migrations/0026-bad-nodes-and-retry-delays.js';
import { dependencyFailureSchema } from './migrations/0027-dependency-failure.js';
import { notificationTriggersSchema } from './migrations/0028-notification-triggers.js';
import { claimCountersLastSchema } from './migrations/0030-claim-counters-last.js';
import { executionStatusMessageSchema } from './migrations/0031-execution-status-message.js';
import { adaptiveChunksAndFrameOffsetsSchema } from './migrations/0034-adaptive-chunks-and-frame-offsets.js';
import { capacitySchema } from './migrations/0035-capacity.js';
import { nodeQuarantineSchema } from './migrations/0036-node-quarantine.js';
import { fairShareSchema } from './migrations/0037-fair-share.js';
import { retryNodesSchema } from './migrations/0039-retry-nodes.js';
import { nodeMembershipPinsSchema } from './migrations/0040-node-membership-pins.js';
import { revisionOutputJudgingSchema } from './migrations/0041-revision-output-judging.js';
import { projectSharesSchema } from './migrations/0042-project-shares.js';
import { poolPathMappingSchema } from './migrations/0043-pool-path-mapping.js';
import { claimPreferencesSchema } from './migrations/0044-claim-preferences.js';
import { hostCapabilitiesSchema } from './migrations/0045-host-capabilities.js';
import { sessionsSchema } from './migrations/0046-sessions.js';
import { claimJobRowsSchema } from './migrations/0047-claim-job-rows.js';
import { claimPlainLooksSchema } from './migrations/0048-claim-plain-looks.js';
import { jobTalliesSchema } from './migrations/0049-job-tallies.js';
import { claimAdmitsSchema } from './migrations/0050-claim-admits.js';

/** Migrations are numbered, never edited once landed, and the same on both databases. */
function migrations(open: OpenDatabase): Record<string, Migration> {
  return {
    '0001-initial': initialSchema(open.dialect),
    '0002-scale': scaleSchema(open.dialect),
    '0003-ufdl': ufdlSchema(open.dialect),
    '0004-task-timeout-action': taskTimeoutActionSchema(open.dialect),
    '0005-error-exit-codes': errorExitCodesSchema(open.dialect),
    '0006-job-json-outputs': jobJsonOutputsSchema(open.dialect),
    '0007-job-schedules': jobSchedulesSchema(open.dialect),
    '0008-list-indexes': listIndexesSchema(open.dialect),
    '0009-dispatch-index': dispatchIndexSchema(open.dialect),
    '0010-node-accounts-token-expiry': nodeAccountsTokenExpirySchema(open.dialect),
    '0011-audit-events': auditEventsSchema(open.dialect),
    '0012-blob-storage': blobStorageSchema(open.dialect),
    '0013-user-grants': userGrantsSchema(open.dialect),
    '0014-job-protection': jobProtectionSchema(open.dialect),
    '0015-dispatch-hot-path': dispatchHotPathSchema(open.dialect),
    '0016-job-parents': jobParentsSchema(open.dialect),
    '0017-job-child-names': jobChildNamesSchema(open.dialect),
    '0018-machine-limit-release': machineLimitReleaseSchema(open.dialect),
    '0019-claim-walk': claimWalkSchema(open.dialect),
    '0020-notification-outbox': notificationOutboxSchema(open.dialect),
    '0021-live-executions': liveExecutionsSchema(open.dialect),
    '0022-execution-usage': executionUsageSchema(open.dialect),
    '0023-node-telemetry': nodeTelemetrySchema(open.dialect),
    '0024-task-parameters': taskParametersSchema(open.dialect),
    '0025-limits': limitsSchema(open.dialect),
    '0026-bad-nodes-and-retry-delays': badNodesAndRetryDelaysSchema(open.dialect),
    '0027-dependency-failure': dependencyFailureSchema(open.dialect),
    '0028-notification-triggers': notificationTriggersSchema(open.dialect),
    '0030-claim-counters-last': claimCountersLastSchema(open.dialect),
    '0031-execution-status-message': executionStatusMessageSchema(open.dialect),
    '0034-adaptive-chunks-and-frame-offsets': adaptiveChunksAndFrameOffsetsSchema(open.dialect),
    '0035-capacity': capacitySchema(open.dialect),
    '0036-node-quarantine': nodeQuarantineSchema(open.dialect),
    '0037-fair-share': fairShareSchema(open.dialect),
    '0039-retry-nodes': retryNodesSchema(open.dialect),
    '0040-node-membership-pins': nodeMembershipPinsSchema(open.dialect),
    '0041-revision-output-judging': revisionOutputJudgingSchema(open.dialect),
    '0042-project-shares': projectSharesSchema(open.dialect),
    '0043-pool-path-mapping': poolPathMappingSchema(open.dialect),
    '0044-claim-preferences': claimPreferencesSchema(open.dialect),
    '0045-host-capabilities': hostCapabilitiesSchema(open.dialect),
    '0046-sessions': sessionsSchema(open.dialect),
    '0047-claim-job-rows': claimJobRowsSchema(open.dialect),
    '0048-claim-plain-looks': claimPlainLooksSchema(open.dialect),
    '0049-job-tallies': jobTalliesSchema(open.dialect),
    '0050-claim-admits': claimAdmitsSchema(open.dialect),
  };
}

export async function migrateToLatest(open: OpenDatabase): Promise<string[]> {
  if (open.schema !== undefined) {
    await sql`create schema if not exists ${sql.id(open.schema)}`.execute(open.db);
  }
  const migrator = new Migrator({
    db: open.db,
    provider: { getMigrations: async () => migrations(open) },
    ...(open.schema !== undefined ? { migrationTableSchema: open.schema } : {}),
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(
      `migration ${failed?.migrationName ?? '?'} failed: ${String((result.error as Error).message ?? result.error)}`,
    );
  }
  return (result.results ?? []).map((r) => r.migrationName);
}

/**
 * Migrations this build knows that the database has not run (`pending`), and ones the
 * database ran that this build does not know (`unknown`: a newer build migrated it).
 */
export async function migrationState(
  open: OpenDatabase,
): Promise<{ pending: string[]; unknown: string[] }> {
  const known = Object.keys(migrations(open));
  const table =
    open.schema !== undefined
      ? sql.id(open.schema, 'kysely_migration')
      : sql.id('kysely_migration');
  let ran: string[] = [];
  try {
    const rows = await sql<{ name: string }>`select name from ${table}`.execute(open.db);
    ran = rows.rows.map((r) => r.name);
  } catch (error) {
    // No migration table yet: nothing has run. Anything else (the database is gone) is the
    // caller's to report.
    if (!/kysely_migration|no such table|does not exist/i.test((error as Error).message))
      throw error;
  }
  const done = new Set(ran);
  const knownSet = new Set(known);
  return {
    pending: known.filter((name) => !done.has(name)),
    unknown: ran.filter((name) => !knownSet.has(name)),
  };
}
