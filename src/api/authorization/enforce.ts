import type {
  FastifyInstance,
  FastifyRequest,
  onRequestHookHandler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify';
import { ANONYMOUS_AREAS, type AnonymousArea } from '../../config.js';
import { DroverError } from '../../domain/errors.js';
import {
  assertActsAsNode,
  assertActsForExecution,
  assertActsForSession,
  assertMayChangeJob,
  assertMayChangeTask,
  assertMayRemoveJob,
} from '../../engine/accounts/permissions.js';
import type { Engine } from '../../engine/engine.js';
import {
  ACCESS_CALLERS,
  PERMISSIONS,
  routeKey,
  type Caller,
  type Rule,
} from './permission-table.js';

/*
 * Puts the permission table in front of every route: each route, as it is registered, gets
 * a check that runs before its body is validated (so a stranger learns nothing from a 400)
 * and before a WebSocket is accepted. A route the table does not know fails registration.
 */

type Face = 'drover' | 'deadline';

/** Routes that only answer 405 (UFDL's unmapped methods) do nothing, for anyone. */
export interface PermissionConfig {
  methodNotAllowed?: boolean;
}

export function ruleOf(face: Face, method: string, url: string): Rule {
  const key = routeKey(face, method, url);
  const rule = PERMISSIONS[key];
  if (!rule) {
    throw new Error(
      `route ${key} has no entry in the permission table (src/api/authorization/permission-table.ts)`,
    );
  }
  return rule;
}

export function callerOf(request: FastifyRequest): Caller {
  return request.principal?.role ?? 'anonymous';
}

const unauthenticated = () =>
  new DroverError(
    'UNAUTHENTICATED',
    'send "Authorization: Bearer <token>"; create a token with `drover token create --user NAME`',
  );

/**
 * Throws if the caller may not follow `rule`; a promise when what the caller may touch must
 * be read first (an account that is neither anonymous nor admin), undefined when it may.
 */
function authorize(engine: Engine, request: FastifyRequest, rule: Rule): Promise<void> | undefined {
  const principal = request.principal;
  const caller = callerOf(request);
  if (!ACCESS_CALLERS[rule.access].includes(caller)) {
    if (!principal) throw unauthenticated();
    throw new DroverError(
      'FORBIDDEN',
      `${principal.name} (${principal.role}) may not do this; it needs ${ACCESS_CALLERS[rule.access].join(' or ')}`,
    );
  }
  if (!principal || principal.role === 'admin') return undefined;
  return authorizeAccount(engine, request, rule, principal);
}

async function authorizeAccount(
  engine: Engine,
  request: FastifyRequest,
  rule: Rule,
  principal: NonNullable<FastifyRequest['principal']>,
): Promise<void> {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const id = (name: string | undefined) => Number(name === undefined ? NaN : params[name]);
  const { ctx } = engine;
  if (rule.job) await assertMayChangeJob(ctx, principal, id(rule.job));
  if (rule.job && rule.removes) {
    // Read before validation: the query is still text here.
    const purge = String((request.query as { purge?: unknown } | undefined)?.purge) === 'true';
    await assertMayRemoveJob(ctx, principal, id(rule.job), purge ? 'purge' : 'delete');
  }
  if (rule.task) await assertMayChangeTask(ctx, principal, id(rule.task));
  if (rule.execution) await assertActsForExecution(ctx, principal, id(rule.execution));
  if (rule.session) await assertActsForSession(ctx, principal, id(rule.session));
  // Any account reads any node; speaking for one needs the binding.
  if (rule.node && (principal.role === 'node' || request.method !== 'GET')) {
    await assertActsAsNode(ctx, principal, id(rule.node));
  }
  // The worker protocol names its node in the body too; it must be the caller's.
  const bodyNode = (request.body as { nodeId?: unknown } | undefined)?.nodeId;
  if (rule.access === 'worker' && typeof bodyNode === 'number') {
    await assertActsAsNode(ctx, principal, bodyNode);
  }
}

export interface RegisteredRoute {
  face: Face;
  method: string;
  url: string;
  rule: Rule | undefined;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on `app` with its rule (none: a 405-only route); for the tests. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

/** Adds the table's check to every route registered on `app` from now on. */
export function enforcePermissions(
  app: FastifyInstance,
  engine: Engine,
  face: Face,
  anonymous: readonly AnonymousArea[] = ANONYMOUS_AREAS,
): void {
  // A public area the setting closes needs a signed-in caller, like any read.
  const effective = (rule: Rule): Rule =>
    rule.area && !anonymous.includes(rule.area) ? { ...rule, access: 'read' } : rule;
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if ((route.config as PermissionConfig | undefined)?.methodNotAllowed) {
      for (const method of methods) routes.push({ face, method, url: route.url!, rule: undefined });
      return;
    }
    for (const method of methods) {
      routes.push({
        face,
        method,
        url: route.url!,
        rule: effective(ruleOf(face, method, route.url!)),
      });
    }
    const rules = new Map(methods.map((m) => [m, effective(ruleOf(face, m, route.url!))]));
    // A hook with a callback, not async: every request runs it, and most are decided
    // without a read (see input-guards.ts).
    const check: preValidationHookHandler = (request, _reply, done) => {
      const rule = rules.get(request.method) ?? effective(ruleOf(face, request.method, route.url!));
      let reads: Promise<void> | undefined;
      try {
        reads = authorize(engine, request, rule);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (reads) reads.then(() => done(), done);
      else done();
    };
    const existing = route.preValidation;
    route.preValidation = [check, ...(existing ? [existing].flat() : [])];
  });
}

/**
 * A refused WebSocket upgrade is answered over a socket Node has already handed to us; once
 * the answer is written nobody else will close it, so close it here (else 300 refusals hold
 * 300 descriptors, and close() waits for them). Must be the app's first onRequest hook.
 */
export const closeRefusedUpgrades: onRequestHookHandler = (request, reply, done) => {
  if (request.headers.upgrade !== undefined && request.raw.socket) {
    const socket = request.raw.socket;
    reply.raw.once('finish', () => socket.destroy());
  }
  done();
};
