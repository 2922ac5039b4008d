import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import { auditRoutes } from './audit.js';
import { eventRoutes } from './events.js';
import { executionRoutes } from './executions.js';
import { grantRoutes } from './grants.js';
import { healthRoutes } from './health.js';
import { jobListRoute } from './job-list.js';
import { jobNodeFailureRoutes } from './job-node-failures.js';
import { jobTypeRoutes } from './job-types.js';
import { jobRoutes } from './jobs.js';
import { limitRoutes } from './limits.js';
import { nodeBatchRoutes } from './node-batches.js';
import { nodeProtocolRoutes } from './node-protocol.js';
import { nodeTelemetryRoutes } from './node-telemetry.js';
import { nodeRoutes } from './nodes.js';
import { notificationRuleRoutes } from './notification-rules.js';
import { outputRoutes } from './outputs.js';
import { pathMappingRoutes } from './path-mapping.js';
import { poolRoutes } from './pools.js';
import { statsRoutes } from './stats.js';
import { taskRoutes } from './tasks.js';
import { tokenRoutes } from './tokens.js';
import { refuseUnknownQueryParameters } from './unknown-query.js';
import { usageRoutes } from './usage.js';
import { whoamiRoutes } from './whoami.js';

/** The native API, one plugin per route group; mounted at /api/v1. */
export function nativeApi(engine: Engine): FastifyPluginAsync {
  return async (app) => {
    refuseUnknownQueryParameters(app);
    await app.register(healthRoutes(engine));
    await app.register(jobTypeRoutes(engine));
    await app.register(jobListRoute(engine));
    await app.register(jobRoutes(engine));
    await app.register(taskRoutes(engine));
    await app.register(executionRoutes(engine));
    await app.register(nodeRoutes(engine));
    await app.register(nodeTelemetryRoutes(engine));
    await app.register(usageRoutes(engine));
    await app.register(nodeProtocolRoutes(engine));
    await app.register(nodeBatchRoutes(engine));
    await app.register(outputRoutes(engine));
    await app.register(eventRoutes(engine));
    await app.register(statsRoutes(engine));
    await app.register(tokenRoutes(engine));
    await app.register(whoamiRoutes(engine));
    await app.register(grantRoutes(engine));
    await app.register(auditRoutes(engine));
    await app.register(notificationRuleRoutes(engine));
    await app.register(limitRoutes(engine));
    await app.register(poolRoutes(engine));
    await app.register(pathMappingRoutes(engine));
    await app.register(jobNodeFailureRoutes(engine));
  };
}
