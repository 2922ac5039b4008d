/*
 * The one table of who may call what, for every route of every face. Each route names an
 * access level; levels say which kinds of caller may reach the route, and a rule may name
 * the path parameter that holds the job, task, node or execution the call acts on, so the
 * caller's ownership of it (src/engine/accounts/permissions.ts) is checked before anything else.
 * A route that is not in the table cannot be registered (enforce.ts), and
 * test/api/permission-table.test.ts calls every route with every kind of caller.
 */

export type Caller = 'anonymous' | 'user' | 'node' | 'admin';

export type Access =
  /** Anyone, without credentials (health probes, the UI's files, the API document). */
  | 'public'
  /** Anyone: the credentials travel in the body (UFDL's token views, Scale's api-token-auth). */
  | 'login'
  /** Users and admins. */
  | 'read'
  /** Users and admins; what they create is theirs. */
  | 'submit'
  /** Users and admins; a user only for jobs they own or a grant reaches (a pool they manage, or every job for a wrangler). */
  | 'owner'
  | 'admin'
  /** Node accounts and admins, a node account only as the node bound to it. */
  | 'worker'
  /** Users and admins; a node account too, for its own node. */
  | 'read-or-worker'
  /** UFDL's node protocol: any account, acting as the node of its `Node-Id` header, which must be bound to it. */
  | 'ufdl-node';

export const ACCESS_CALLERS: Record<Access, readonly Caller[]> = {
  public: ['anonymous', 'user', 'node', 'admin'],
  login: ['anonymous', 'user', 'node', 'admin'],
  read: ['user', 'admin'],
  submit: ['user', 'admin'],
  owner: ['user', 'admin'],
  admin: ['admin'],
  worker: ['node', 'admin'],
  'read-or-worker': ['user', 'node', 'admin'],
  'ufdl-node': ['user', 'node', 'admin'],
};

export interface Rule {
  access: Access;
  /** The path parameter holding the id of the job the call changes. */
  job?: string;
  /** … of the task (its job is the one checked). */
  task?: string;
  /** … of the node the caller speaks for. */
  node?: string;
  /** … of the execution, whose node the caller must speak for. */
  execution?: string;
  /** … of the OpenJD session, whose node the caller must speak for. */
  session?: string;
  /** The call deletes, purges or archives the job: a protected one is its owner's or an admin's. */
  removes?: true;
  /** A public route that the `anonymous` setting may close (it is then `read`). */
  area?: 'metrics' | 'docs' | 'ui';
}

const r = (access: Access, ids: Omit<Rule, 'access'> = {}): Rule => ({ access, ...ids });

/** Keys are `METHOD /path` as normalised by routeKey (Deadline's listener: `deadline METHOD /path`). */
export const PERMISSIONS: Record<string, Rule> = {
  // The web UI and the API document; docs/security.md says how to close them.
  'GET /': r('public', { area: 'ui' }),
  'GET /assets/*': r('public', { area: 'ui' }),
  'GET /docs': r('public', { area: 'docs' }),
  'GET /docs/static/index.html': r('public', { area: 'docs' }),
  'GET /docs/static/swagger-initializer.js': r('public', { area: 'docs' }),
  'GET /docs/static/*': r('public', { area: 'docs' }),
  'GET /docs/json': r('public', { area: 'docs' }),
  'GET /docs/yaml': r('public', { area: 'docs' }),
  'GET /metrics': r('public', { area: 'metrics' }),

  // Native API.
  'GET /api/v1/health': r('public'),
  'GET /api/v1/ready': r('public'),
  'GET /api/v1/job-types': r('read'),
  'POST /api/v1/job-types': r('admin'),
  'GET /api/v1/job-types/:id': r('read'),
  'PATCH /api/v1/job-types/:id': r('admin'),
  'GET /api/v1/job-types/:id/revisions': r('read'),
  'POST /api/v1/job-types/:id/revisions': r('admin'),
  'GET /api/v1/job-types/:id/revisions/:revision': r('read'),
  'GET /api/v1/jobs': r('read'),
  'POST /api/v1/jobs': r('submit'),
  'GET /api/v1/jobs/:id': r('read'),
  'PATCH /api/v1/jobs/:id': r('owner', { job: 'id' }),
  'DELETE /api/v1/jobs/:id': r('owner', { job: 'id', removes: true }),
  'GET /api/v1/jobs/:id/waiting-reasons': r('read'),
  'GET /api/v1/jobs/:id/node-failures': r('read'),
  'DELETE /api/v1/jobs/:id/node-failures': r('owner', { job: 'id' }),
  'GET /api/v1/jobs/:id/tasks': r('read'),
  'GET /api/v1/jobs/:id/outputs': r('read'),
  'POST /api/v1/jobs/:id/:action': r('owner', { job: 'id' }),
  'GET /api/v1/tasks/:id': r('read'),
  'POST /api/v1/tasks/:id/:action': r('owner', { task: 'id' }),
  'GET /api/v1/jobs/:id/sessions': r('read'),
  'GET /api/v1/sessions/:id': r('read'),
  'GET /api/v1/sessions/:id/log': r('read'),
  'POST /api/v1/sessions': r('worker'),
  'POST /api/v1/sessions/:id/actions': r('worker', { session: 'id' }),
  'POST /api/v1/sessions/:id/log': r('worker', { session: 'id' }),
  'POST /api/v1/sessions/:id/end': r('worker', { session: 'id' }),
  'GET /api/v1/executions': r('read'),
  'GET /api/v1/executions/:id': r('read'),
  'GET /api/v1/executions/:id/logs': r('read'),
  'POST /api/v1/executions/:id/logs': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/start': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/progress': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/heartbeat': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/finish': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/release': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/abort': r('worker', { execution: 'id' }),
  'POST /api/v1/executions/:id/outputs': r('worker', { execution: 'id' }),
  'GET /api/v1/events': r('read'),
  'GET /api/v1/nodes': r('read'),
  // Registration binds the node's name to the account (checked by the engine).
  'POST /api/v1/nodes': r('worker'),
  'GET /api/v1/nodes/:id': r('read-or-worker', { node: 'id' }),
  'GET /api/v1/nodes/:id/telemetry': r('read'),
  // Everyone's usage for an admin, a user's own jobs' for a user (the engine narrows it).
  'GET /api/v1/usage': r('read'),
  'PATCH /api/v1/nodes/:id': r('admin'),
  'POST /api/v1/nodes/:id/enable': r('admin'),
  'POST /api/v1/nodes/:id/disable': r('admin'),
  'DELETE /api/v1/nodes/:id/quarantine': r('admin'),
  'GET /api/v1/nodes/:id/idle-reasons': r('read'),
  'POST /api/v1/nodes/:id/heartbeat': r('worker', { node: 'id' }),
  'POST /api/v1/nodes/:id/acquire': r('worker', { node: 'id' }),
  'POST /api/v1/nodes/:id/claims': r('worker', { node: 'id' }),
  'POST /api/v1/nodes/:id/finishes': r('worker', { node: 'id' }),
  'GET /api/v1/outputs/:id/content': r('read'),
  'GET /api/v1/stats/counts': r('read'),
  'GET /api/v1/stats/throughput': r('read'),
  'GET /api/v1/stats/jobs': r('read'),
  'GET /api/v1/audit': r('read'),
  'GET /api/v1/whoami': r('read'),
  'GET /api/v1/tokens': r('admin'),
  'POST /api/v1/tokens': r('admin'),
  'DELETE /api/v1/tokens/:id': r('admin'),
  'GET /api/v1/grants': r('admin'),
  'POST /api/v1/grants': r('admin'),
  'DELETE /api/v1/grants/:id': r('admin'),
  // A user's own rules, an admin's global ones: the engine checks whose rule it is.
  'GET /api/v1/notification-rules': r('read'),
  'POST /api/v1/notification-rules': r('submit'),
  'GET /api/v1/notification-rules/:id': r('read'),
  'GET /api/v1/notification-rules/:id/deliveries': r('read'),
  'PATCH /api/v1/notification-rules/:id': r('submit'),
  'DELETE /api/v1/notification-rules/:id': r('submit'),
  'GET /api/v1/limits': r('read'),
  'POST /api/v1/limits': r('admin'),
  'GET /api/v1/limits/:name': r('read'),
  'PATCH /api/v1/limits/:name': r('admin'),
  'DELETE /api/v1/limits/:name': r('admin'),
  'GET /api/v1/pools': r('read'),
  'GET /api/v1/pools/:name': r('read'),
  'PUT /api/v1/pools/:name': r('admin'),
  'DELETE /api/v1/pools/:name': r('admin'),
  'GET /api/v1/path-mapping-rules': r('read'),
  'GET /api/v1/pools/:name/path-mapping-rules': r('read'),
  'PUT /api/v1/pools/:name/path-mapping-rules': r('admin'),
  'POST /api/v1/pools/:name/path-mapping-rules': r('admin'),
  'DELETE /api/v1/pools/:name/path-mapping-rules': r('admin'),
  'DELETE /api/v1/pools/:name/path-mapping-rules/:index': r('admin'),

  // Scale v6 (also under /api/v6) and the legacy job services (also under /v5/jobs).
  'GET /v6/jobs': r('read'),
  'POST /v6/jobs': r('submit'),
  // Bulk commands check each job they select (v6-jobs.ts).
  'POST /v6/jobs/cancel': r('owner'),
  'POST /v6/jobs/requeue': r('owner'),
  'GET /v6/jobs/:id': r('read'),
  'GET /v6/jobs/:id/input_files': r('read'),
  'GET /v6/jobs/:id/executions': r('read'),
  'GET /v6/jobs/:id/executions/:exe': r('read'),
  'GET /v6/job-executions/:id': r('read'),
  'GET /v6/job-executions/:id/logs/:log': r('read'),
  'GET /v6/job-types': r('read'),
  'POST /v6/job-types': r('admin'),
  'GET /v6/job-types/:name': r('read'),
  'GET /v6/job-types/:name/:version': r('read'),
  'GET /v6/job-types/:name/:version/revisions': r('read'),
  'GET /v6/job-types/:name/:version/revisions/:num': r('read'),
  'GET /v6/errors': r('read'),
  'GET /v6/errors/:id': r('read'),
  'GET /v6/nodes': r('read'),
  'GET /v6/nodes/:id': r('read'),
  'GET /v6/batches': r('read'),
  'POST /v6/batches': r('submit'),
  'GET /v6/batches/:id': r('read'),
  'GET /v6/files': r('read'),
  'POST /v6/files': r('submit'),
  'GET /v6/files/:id': r('read'),
  'GET /v6/queue/status': r('read'),
  // Scale's login: the credentials travel in the body.
  'POST /api-token-auth': r('login'),
  'GET /jobs': r('read'),
  'GET /jobs/updates': r('read'),
  'GET /jobs/executions': r('read'),
  'GET /jobs/:id': r('read'),
  'PATCH /jobs/:id': r('owner', { job: 'id' }),
  'GET /job-executions': r('read'),
  'GET /job-executions/:id': r('read'),
  'GET /job-executions/:id/logs/:log': r('read'),

  // UFDL. Its views keep their own finer checks (DRF's permission classes); a method a
  // view does not map is 405 for anyone (routing.ts marks those routes).
  'POST /v1/auth/obtain': r('login'),
  'POST /v1/auth/refresh': r('login'),
  'POST /v1/auth/verify': r('login'),
  'POST /v1/jobs/list': r('read'),
  'POST /v1/jobs/create': r('read'),
  // GET is also the job's WebSocket.
  'GET /v1/jobs/:pk': r('read'),
  'PUT /v1/jobs/:pk': r('admin', { job: 'pk' }),
  'PATCH /v1/jobs/:pk': r('admin', { job: 'pk' }),
  'DELETE /v1/jobs/:pk': r('admin', { job: 'pk', removes: true }),
  'DELETE /v1/jobs/:pk/hard': r('admin', { job: 'pk', removes: true }),
  'DELETE /v1/jobs/:pk/reinstate': r('admin', { job: 'pk' }),
  'DELETE /v1/jobs/:pk/cancel': r('admin', { job: 'pk' }),
  'GET /v1/jobs/:pk/acquire': r('ufdl-node'),
  'DELETE /v1/jobs/:pk/release': r('ufdl-node'),
  'POST /v1/jobs/:pk/start': r('ufdl-node'),
  'POST /v1/jobs/:pk/progress/:progress': r('ufdl-node'),
  'POST /v1/jobs/:pk/finish': r('ufdl-node'),
  'DELETE /v1/jobs/:pk/reset': r('ufdl-node'),
  'DELETE /v1/jobs/:pk/abort': r('admin', { job: 'pk' }),
  'POST /v1/jobs/:pk/outputs/:name/:type': r('ufdl-node'),
  'GET /v1/jobs/:pk/outputs/:name/:type': r('read'),
  'DELETE /v1/jobs/:pk/outputs/:name/:type': r('admin'),
  'GET /v1/jobs/:pk/outputs/:name/:type/info': r('read'),
  'POST /v1/job-templates/list': r('read'),
  'POST /v1/job-templates/import': r('admin'),
  'GET /v1/job-templates/:pk': r('read'),
  'DELETE /v1/job-templates/:pk': r('admin'),
  'POST /v1/job-templates/:pk/create-job': r('submit'),
  'GET /v1/job-templates/:pk/get-all-parameters': r('read'),
  'GET /v1/job-templates/:pk/get-types': r('read'),
  'GET /v1/job-templates/:pk/get-outputs': r('read'),
  'GET /v1/job-templates/get-all-matching-templates/*': r('read'),
  'DELETE /v1/job-templates/:pk/reinstate': r('admin'),
  'DELETE /v1/job-templates/:pk/hard': r('admin'),
  'GET /v1/job-templates/:pk/export': r('admin'),
  'POST /v1/job-templates/create': r('read'),
  'PUT /v1/job-templates/:pk': r('read'),
  'PATCH /v1/job-templates/:pk': r('read'),
  // The workable templates alone, as UFDL's TypeScript client names them.
  'POST /v1/workable-templates/list': r('read'),
  'POST /v1/workable-templates/create': r('read'),
  'POST /v1/workable-templates/import': r('admin'),
  'GET /v1/workable-templates/:pk': r('read'),
  'PUT /v1/workable-templates/:pk': r('read'),
  'PATCH /v1/workable-templates/:pk': r('read'),
  'DELETE /v1/workable-templates/:pk': r('admin'),
  'POST /v1/workable-templates/:pk/create-job': r('submit'),
  'DELETE /v1/workable-templates/:pk/reinstate': r('admin'),
  'DELETE /v1/workable-templates/:pk/hard': r('admin'),
  'GET /v1/workable-templates/:pk/export': r('admin'),
  'POST /v1/job-types/list': r('read'),
  'POST /v1/job-types/create': r('admin'),
  'GET /v1/job-types/:pk': r('read'),
  'PUT /v1/job-types/:pk': r('admin'),
  'PATCH /v1/job-types/:pk': r('admin'),
  'DELETE /v1/job-types/:pk': r('admin'),
  'GET /v1/job-types/get-all-values/*': r('read'),
  'POST /v1/job-contracts/list': r('read'),
  'POST /v1/job-contracts/create': r('admin'),
  'GET /v1/job-contracts/:pk': r('read'),
  'PUT /v1/job-contracts/:pk': r('admin'),
  'PATCH /v1/job-contracts/:pk': r('admin'),
  'DELETE /v1/job-contracts/:pk': r('admin'),
  'POST /v1/job-outputs/list': r('read'),
  'POST /v1/job-outputs/create': r('admin'),
  'GET /v1/job-outputs/:pk': r('read'),
  'PUT /v1/job-outputs/:pk': r('admin'),
  'PATCH /v1/job-outputs/:pk': r('admin'),
  'DELETE /v1/job-outputs/:pk': r('admin'),
  'DELETE /v1/job-outputs/:pk/hard': r('admin'),
  'DELETE /v1/job-outputs/:pk/reinstate': r('admin'),
  'POST /v1/job-outputs/:pk/download': r('read'),
  // The job launcher logs in as a user and creates its node, which is then bound to it.
  'POST /v1/nodes/list': r('read-or-worker'),
  'POST /v1/nodes/create': r('read-or-worker'),
  'GET /v1/nodes/:pk': r('read-or-worker'),
  'PUT /v1/nodes/:pk': r('read-or-worker', { node: 'pk' }),
  'PATCH /v1/nodes/:pk': r('read-or-worker', { node: 'pk' }),
  'DELETE /v1/nodes/:pk': r('read-or-worker', { node: 'pk' }),
  'GET /v1/nodes/ping': r('ufdl-node'),

  // Deadline's Web Service (its own listener). Commands name their jobs in the body; the
  // handlers check each job (job-routes.ts, task-routes.ts).
  // With auth on, Deadline asks for credentials everywhere, its banner too (auth.ts).
  'deadline GET /': r('read'),
  'deadline GET /api/jobs': r('read'),
  'deadline POST /api/jobs': r('submit'),
  'deadline PUT /api/jobs': r('owner'),
  'deadline DELETE /api/jobs': r('owner'),
  'deadline GET /api/tasks': r('read'),
  'deadline PUT /api/tasks': r('owner'),
  'deadline POST /api/tasks': r('owner'),
  'deadline DELETE /api/tasks': r('owner'),
  'deadline GET /api/taskreports': r('read'),
  'deadline POST /api/taskreports': r('owner'),
  'deadline PUT /api/taskreports': r('owner'),
  'deadline DELETE /api/taskreports': r('owner'),
  'deadline GET /api/jobreports': r('read'),
  'deadline POST /api/jobreports': r('owner'),
  'deadline PUT /api/jobreports': r('owner'),
  'deadline DELETE /api/jobreports': r('owner'),
};

/** Drops regex constraints (`:id(^\d+)`), folds aliases and trailing slashes, HEAD into GET. */
export function routeKey(face: 'drover' | 'deadline', method: string, url: string): string {
  let path = '';
  let depth = 0;
  for (const ch of url) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) path += ch;
  }
  path = path
    .replace(/^\/api\/v6(\/|$)/, '/v6$1')
    .replace(/^\/v5\/(jobs|job-executions)(\/|$)/, '/$1$2');
  if (path.length > 1) path = path.replace(/\/$/, '');
  const verb = method === 'HEAD' ? 'GET' : method;
  return `${face === 'deadline' ? 'deadline ' : ''}${verb} ${path}`;
}
