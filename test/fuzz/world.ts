/* eslint-disable @typescript-eslint/no-explicit-any -- the seeding reads whatever a route answers */
import type { DeadlineTestServer } from '../api/deadline/support.js';
import type { Template } from './inputs.js';
import type { Face } from './requests.js';

/*
 * What the fuzz starts from: a few things of every kind made through each face (jobs,
 * tasks, an execution on a node, job types, a Scale file, a UFDL node and job), the ids
 * and names a path may use to reach them, and one valid body per kind of request for the
 * near-valid mutations. Without real ids most requests would stop at a 404.
 */

export interface World {
  /** Headers that act as an admin (empty when auth is off: the caller is the local admin). */
  adminHeaders: Record<string, string>;
  /** Values a path parameter may take to name something that exists. */
  pathValues: string[];
  /** Valid bodies by route key (`POST /api/v1/jobs`). */
  templates: Record<string, Template[]>;
  /** Valid bodies of each face, for routes without their own. */
  faceTemplates: Record<Face, Template[]>;
}

async function ok(res: Promise<{ status: number; body: any }>, what: string): Promise<any> {
  const r = await res;
  if (r.status >= 300) throw new Error(`seeding ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function seedWorld(
  t: DeadlineTestServer,
  adminHeaders: Record<string, string>,
): Promise<World> {
  const post = (path: string, body: unknown) => t.request('POST', path, body, adminHeaders);
  const job = await ok(
    post('/api/v1/jobs', {
      type: 'command-line',
      name: 'fuzz-seed',
      frames: '1-6',
      chunkSize: 2,
      parameters: { executable: 'echo', arguments: ['{start}'] },
    }),
    'native job',
  );
  const node = await ok(post('/api/v1/nodes', { name: 'fuzz-node-1', slots: 2 }), 'node');
  const order = await ok(post(`/api/v1/nodes/${node.id}/acquire`, {}), 'acquire');
  const execution = order.execution.id as number;
  const jobType = await ok(
    post('/api/v1/job-types', {
      name: 'fuzz-type',
      definition: {
        command: ['echo', '{input.dataset}', '{param.epochs}'],
        inputs: [{ name: 'dataset', type: 'integer' }],
        parameters: [{ name: 'epochs', type: 'integer', required: false }],
        priority: 10,
        maxTries: 2,
        taskTimeout: 60,
        resources: { cpus: 1, mem: 64 },
      },
    }),
    'job type',
  );
  const manifest = {
    seedVersion: '1.0.0',
    job: {
      name: 'fuzz-seed',
      jobVersion: '1.0.0',
      packageVersion: '1.0.0',
      title: 'Fuzz seed',
      description: 'a job type to fuzz',
      maintainer: { name: 'Fuzz', email: 'fuzz@example.com' },
      timeout: 30,
      resources: {
        scalar: [
          { name: 'cpus', value: 1 },
          { name: 'mem', value: 64 },
        ],
      },
      interface: {
        command: 'echo ${INPUT_FILE} ${COUNT}',
        inputs: {
          files: [{ name: 'INPUT_FILE' }],
          json: [{ name: 'COUNT', type: 'integer', required: false }],
        },
        outputs: { files: [{ name: 'out', pattern: '*.txt', multiple: true, required: false }] },
      },
      errors: [{ code: 1, name: 'bad-data', title: 'Bad data', category: 'data' }],
    },
  };
  const scaleType = await ok(post('/v6/job-types/', { manifest }), 'scale job type');
  const file = await ok(
    post('/v6/files/', { file_name: 'in.txt', file_path: '/data/in.txt', file_size: 10 }),
    'scale file',
  );
  const scaleJobBody = {
    job_type_id: scaleType.id,
    input: { files: { INPUT_FILE: [file.id] }, json: { COUNT: 4 } },
  };
  const scaleJob = await ok(post('/v6/jobs/', scaleJobBody), 'scale job');
  const ufdlJobBody = {
    input_values: { dataset: { value: 7, type: 'PK<Dataset<Domain<Image Classification>>>' } },
    parameter_values: { epochs: { value: 3, type: 'int' } },
    description: 'fuzz',
  };
  const ufdlJob = await ok(
    post(`/v1/job-templates/${jobType.id}/create-job`, ufdlJobBody),
    'ufdl job',
  );
  const ufdlNodeBody = {
    ip: '10.0.0.9',
    index: 0,
    driver_version: '535.1',
    gpu_mem: 8000,
    cpu_mem: 32000,
  };
  const ufdlNode = await ok(post('/v1/nodes/create', ufdlNodeBody), 'ufdl node');
  const deadlineSubmit = {
    JobInfo: {
      Plugin: 'CommandLine',
      Name: 'fuzz',
      Frames: '1-4',
      ChunkSize: 2,
      Priority: 50,
      MachineLimit: 1,
      TaskTimeoutMinutes: 5,
      OnJobComplete: 'Nothing',
      ScheduledType: 'None',
    },
    PluginInfo: { Executable: '/bin/echo', Arguments: '<STARTFRAME> <ENDFRAME>' },
    AuxFiles: [],
    IdOnly: true,
  };
  const auth = adminHeaders.authorization
    ? { auth: 'Basic ' + Buffer.from('fuzz-admin:admin-pw').toString('base64') }
    : {};
  const dlJob = await t.dl('POST', '/api/jobs', deadlineSubmit, auth);
  if (dlJob.status !== 200) throw new Error(`seeding deadline job: ${dlJob.status} ${dlJob.text}`);
  const dlId = String(dlJob.body._id);
  // A second job for the commands that take a job out of the lists (archive, delete).
  const dlOther = await t.dl('POST', '/api/jobs', deadlineSubmit, auth);
  const dlOtherId = String(dlOther.body?._id ?? dlId);

  const nativeJobTemplate = {
    type: 'command-line',
    name: 'fuzz',
    frames: '1-3',
    chunkSize: 1,
    priority: 50,
    maxTries: 2,
    taskTimeout: 10,
    jobTimeout: 100,
    machineLimit: 1,
    pool: 'p',
    resources: { cpus: 1, mem: 10 },
    dependencies: [job.id],
    initialState: 'SUSPENDED',
    schedule: { kind: 'daily', startDate: '2030-01-01', startTime: '08:00', everyDays: 2 },
    parameters: { executable: 'echo', arguments: ['{start}', '{end}'] },
  };
  const definition = {
    command: ['echo', '{param.p}'],
    parameters: [{ name: 'p', type: 'integer', required: false }],
    outputs: [{ name: 'o', type: 'file', pattern: '*.png' }],
    priority: 1,
    maxTries: 2,
    taskTimeout: 5,
    resources: { cpus: 1, gpus: 0 },
    env: { A: 'b' },
  };
  const nodeId = node.id as number;
  const ufdlFilter = {
    expressions: [
      { type: 'exact', field: 'pk', value: 1 },
      {
        type: 'or',
        sub_expressions: [
          { type: 'contains', field: 'description', value: 'f' },
          { type: 'compare', field: 'pk', operator: '>', value: 0 },
        ],
      },
    ],
    order_by: [{ field: 'pk', ascending: false }],
  };
  const templates: Record<string, Template[]> = {
    'POST /api/v1/jobs': [nativeJobTemplate],
    'PATCH /api/v1/jobs/:id': [{ priority: 10, name: 'renamed', machineLimit: 2, maxTries: 3 }],
    'POST /api/v1/job-types': [{ name: 'fuzz-made', title: 'T', definition }],
    // Not the command or interface: a revision of the built-in type (id 1) would otherwise
    // turn every later submission of it into a 400, and the fuzz would stop reaching jobs.
    'POST /api/v1/job-types/:id/revisions': [
      {
        title: 'T2',
        definition: { priority: 1, maxTries: 2, taskTimeout: 5, resources: { cpus: 1 } },
      },
    ],
    'PATCH /api/v1/job-types/:id': [{ active: true }],
    'POST /api/v1/nodes': [
      { name: 'fuzz-node-2', pools: ['p'], groups: ['g'], cpus: 4, mem: 1024, slots: 2 },
    ],
    'POST /api/v1/nodes/:id/heartbeat': [{ executions: [execution] }],
    'POST /api/v1/nodes/:id/claims': [{ max: 2, wait: 0, start: true }],
    'POST /api/v1/nodes/:id/finishes': [
      { finishes: [{ executionId: execution, success: true, exitCode: 0 }] },
    ],
    'POST /api/v1/executions/:id/start': [{ nodeId }],
    'POST /api/v1/executions/:id/progress': [{ nodeId, progress: 50 }],
    'POST /api/v1/executions/:id/heartbeat': [{ nodeId }],
    'POST /api/v1/executions/:id/finish': [
      { nodeId, success: false, exitCode: 2, error: { name: 'x', category: 'DATA', message: 'm' } },
    ],
    'POST /api/v1/executions/:id/logs': [
      {
        nodeId,
        lines: [
          { stream: 'stdout', text: 'a' },
          { stream: 'stderr', text: 'b' },
        ],
      },
    ],
    'POST /api/v1/tokens': [{ user: 'fuzz-admin', name: 'n', expires: '30d' }],
    'POST /api/v1/jobs/:id/:action': [{}],
    'POST /v6/jobs/': [scaleJobBody],
    'POST /v6/job-types/': [{ manifest }],
    'POST /v6/files/': [
      { file_name: 'f.txt', file_path: '/data/f.txt', file_size: 3, media_type: 'text/plain' },
    ],
    'POST /v6/batches/': [{ title: 'b', recipe_type_id: 1, definition: { previous_batch: {} } }],
    'POST /v6/jobs/cancel/': [{ job_ids: [scaleJob.id], status: 'QUEUED' }],
    'POST /v6/jobs/requeue/': [{ job_ids: [scaleJob.id], priority: 5 }],
    'PATCH /v6/jobs/:id/': [{ status: 'CANCELED', priority: 10 }],
    'POST /v1/jobs/list': [ufdlFilter],
    'POST /v1/job-templates/:pk/create-job': [ufdlJobBody],
    'POST /v1/job-templates/import': [
      {
        name: 'fuzz-import',
        version: '1',
        title: 't',
        description: 'd',
        category: 'c',
        definition,
      },
    ],
    'POST /v1/nodes/create': [ufdlNodeBody],
    'POST /v1/jobs/:pk/finish': [{ success: true, send_notification: 'email' }],
    'POST /v1/jobs/:pk/start': [{ send_notification: 'email' }],
  };
  const deadlineCommands = [
    'suspend',
    'resume',
    'requeue',
    'pend',
    'releasepending',
    'complete',
    'fail',
    'resumefailed',
    'save',
    'import',
    'undelete',
    'setjobmachinelimit',
    'setjobmachinelimitmaximum',
    'setjobframerange',
    'appendjobframerange',
    'addslavestojobmachinelimitlist',
  ];
  const deadline: Template[] = [
    deadlineSubmit,
    ...deadlineCommands.map((Command) => ({ Command, JobID: dlId })),
    {
      Command: 'save',
      Job: {
        _id: dlId,
        Props: { Name: 'n', Pri: 60, MachLmt: 2, Timeout: 1, Dep: [String(job.id)] },
      },
    },
    { Command: 'setjobframerange', JobID: dlId, FrameList: '1-10', ChunkSize: 2 },
    { Command: 'setjobmachinelimit', JobID: dlId, Limit: 2, SlaveList: 'a,b', WhiteListFlag: true },
    { Command: 'requeue', JobID: dlId, TaskList: [0, 1] },
    { Command: 'archive', JobID: dlOtherId },
    { Command: 'undelete', JobID: dlOtherId },
    { JobID: dlOtherId, Purge: true },
  ];
  templates['POST /api/jobs'] = [deadlineSubmit];
  templates['PUT /api/jobs'] = deadline.slice(1);
  templates['PUT /api/tasks'] = [
    { Command: 'requeue', JobID: dlId, TaskList: [0, 1] },
    { Command: 'complete', JobID: dlId, TaskList: '0' },
  ];
  return {
    adminHeaders,
    pathValues: [
      String(job.id),
      String(nodeId),
      String(execution),
      String(order.task.id),
      String(jobType.id),
      String(scaleType.id),
      String(scaleJob.id),
      String(file.id),
      String(ufdlJob.pk),
      String(ufdlNode.pk),
      dlId,
      `${dlId}_0`,
      dlOtherId,
      'fuzz-seed',
      'fuzz-type',
      '1.0.0',
      'command-line',
      'stdout',
      '0.5',
      'suspend',
      'requeue',
      'cancel',
      'undelete',
      'retry',
      'out',
      'file',
    ],
    templates,
    faceTemplates: {
      native: [nativeJobTemplate, { nodeId }, ...templates['POST /api/v1/nodes']!],
      scale: [scaleJobBody, { manifest }, { job_ids: [scaleJob.id] }],
      ufdl: [ufdlFilter, ufdlJobBody, ufdlNodeBody],
      deadline,
    },
  };
}
