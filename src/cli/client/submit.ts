import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import {
  DEPENDENCY_FAILURE_POLICIES,
  type DependencyFailurePolicy,
} from '../../domain/dependency-failure.js';
import { TASK_TIMEOUT_ACTIONS, type TaskTimeoutAction } from '../../domain/task-timeout-action.js';
import { CliError, type ApiClient } from './api-client.js';
import {
  action,
  clientOf,
  commaList,
  commonFlags,
  optionParser,
  out,
  parseIds,
  parseInteger,
  parseNumber,
  printJson,
  withClientOptions,
} from './command-support.js';
import { readJobBundle } from './job-bundle.js';
import type { Job } from './resources.js';

/*
 * `drover submit`: a command line (the built-in command-line job type), any job type with
 * --type and --param, or job files holding the native submit body (one job or a list).
 */

interface SubmitFlags {
  file?: string;
  bundle?: string;
  type?: string;
  typeVersion?: string;
  param?: string[];
  input?: string[];
  frames?: string;
  chunk?: number;
  name?: string;
  comment?: string;
  department?: string;
  project?: string;
  priority?: number;
  pool?: string;
  group?: string;
  maxTries?: number;
  timeout?: number;
  taskTimeoutAction?: TaskTimeoutAction;
  jobTimeout?: number;
  dependsOn?: number[];
  onDependencyFailure?: DependencyFailurePolicy;
  frameDependent?: boolean;
  machineLimit?: number;
  allow?: string[];
  deny?: string[];
  limit?: string[];
  cpus?: number;
  mem?: number;
  gpus?: number;
  suspended?: boolean;
  pending?: boolean;
  protected?: boolean;
}

type Body = Record<string, unknown>;

/** `k=v` is a string; `k:=v` is JSON (`n:=3`, `list:=["a","b"]`), as in httpie. */
export function parseAssignments(what: string, texts: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const text of texts) {
    const match = /^([^=:]+)(:?=)([\s\S]*)$/.exec(text);
    if (!match?.[1])
      throw new CliError(`${what} "${text}" must look like name=value or name:=json`);
    const [, key, sign, value = ''] = match;
    if (sign === ':=') {
      try {
        result[key.trim()] = JSON.parse(value) as unknown;
      } catch {
        throw new CliError(`${what} ${key.trim()}: "${value}" is not valid JSON`);
      }
    } else {
      result[key.trim()] = value;
    }
  }
  return result;
}

/** CANCEL, WAIT or RUN in any case, or an error that lists them. */
export function parseFailurePolicy(what: string, value: string): DependencyFailurePolicy {
  const policy = DEPENDENCY_FAILURE_POLICIES.find((p) => p === value.trim().toUpperCase());
  if (policy) return policy;
  throw new CliError(
    `${what} must be CANCEL (cancel this job too), WAIT (until the dependency is retried and completes) or RUN (run anyway), not ${JSON.stringify(value)}`,
  );
}

/** FAIL, COMPLETE or NOTIFY in any case, or an error that lists them. */
export function parseTaskTimeoutAction(what: string, value: unknown): TaskTimeoutAction {
  const action = TASK_TIMEOUT_ACTIONS.find(
    (a) => typeof value === 'string' && a === value.trim().toUpperCase(),
  );
  if (action) return action;
  throw new CliError(
    `${what} must be FAIL (kill the task, fail the try), COMPLETE (kill it, complete the task) or NOTIFY (flag it, let it run), not ${JSON.stringify(value)}`,
  );
}

/** The submit-body fields that flags set, so they can also override a job file. */
function fieldsFromFlags(flags: SubmitFlags): Body {
  const body: Body = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) body[key] = value;
  };
  set('typeVersion', flags.typeVersion);
  set('name', flags.name);
  set('comment', flags.comment);
  set('department', flags.department);
  set('project', flags.project);
  set('priority', flags.priority);
  set('pool', flags.pool);
  set('group', flags.group);
  set('frames', flags.frames);
  set('chunkSize', flags.chunk);
  set('maxTries', flags.maxTries);
  set('taskTimeout', flags.timeout);
  set('taskTimeoutAction', flags.taskTimeoutAction);
  set('jobTimeout', flags.jobTimeout);
  set('dependencies', flags.dependsOn);
  set('onDependencyFailure', flags.onDependencyFailure);
  set('frameDependent', flags.frameDependent);
  set('machineLimit', flags.machineLimit);
  set('allowList', flags.allow);
  set('denyList', flags.deny);
  set('limits', flags.limit);
  const resources: Body = {};
  if (flags.cpus !== undefined) resources.cpus = flags.cpus;
  if (flags.mem !== undefined) resources.mem = flags.mem;
  if (flags.gpus !== undefined) resources.gpus = flags.gpus;
  if (Object.keys(resources).length) body.resources = resources;
  if (flags.suspended && flags.pending) {
    throw new CliError('choose one of --suspended and --pending');
  }
  if (flags.suspended) body.initialState = 'SUSPENDED';
  if (flags.pending) body.initialState = 'PENDING';
  if (flags.protected) body.protected = true;
  return body;
}

/** Reads a job file (JSON or YAML; `-` is stdin) into a list of submit bodies. */
export function readJobFile(path: string): Body[] {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON or YAML: ${(error as Error).message}`);
  }
  const jobs = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  if (jobs.length === 0) throw new CliError(`${path} holds no jobs`);
  return jobs.map((job, i) => {
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      throw new CliError(
        `${path}: ${jobs.length > 1 ? `item ${i + 1}` : 'the file'} must be a job object (type, parameters, …)`,
      );
    }
    const body = job as Body;
    // Checked here so a wrong value gets the same sentence as the flag, and any case does.
    if (body.taskTimeoutAction !== undefined) {
      const where = `${path}${jobs.length > 1 ? ` item ${i + 1}` : ''}: taskTimeoutAction`;
      return { ...body, taskTimeoutAction: parseTaskTimeoutAction(where, body.taskTimeoutAction) };
    }
    return body;
  });
}

function jobsToSubmit(commandLine: readonly string[], flags: SubmitFlags): Body[] {
  const fields = fieldsFromFlags(flags);
  const params = parseAssignments('--param', flags.param ?? []);
  const inputs = parseAssignments('--input', flags.input ?? []);
  const merge = (job: Body): Body => {
    const merged: Body = { ...job, ...fields };
    if (flags.type !== undefined) merged.type = flags.type;
    if (Object.keys(params).length) {
      merged.parameters = { ...(job.parameters as Body | undefined), ...params };
    }
    if (Object.keys(inputs).length)
      merged.inputs = { ...(job.inputs as Body | undefined), ...inputs };
    return merged;
  };

  if (flags.bundle !== undefined) {
    if (commandLine.length || flags.file !== undefined || flags.type !== undefined) {
      throw new CliError('give --bundle alone: not with --file, --type or a command line');
    }
    if (Object.keys(inputs).length) {
      throw new CliError('a job bundle takes no --input; give its job parameters with -p');
    }
    const bundle = readJobBundle(flags.bundle, params, process.cwd());
    return [{ ...bundle, ...fields }];
  }
  if (flags.file !== undefined) {
    if (commandLine.length) {
      throw new CliError('give either --file or a command line after --, not both');
    }
    return readJobFile(flags.file).map(merge);
  }
  if (commandLine.length) {
    if (flags.type !== undefined && flags.type !== 'command-line') {
      throw new CliError(
        `a command line after -- runs with the command-line job type; for ${flags.type} use --param`,
      );
    }
    const [executable, ...args] = commandLine;
    const parameters: Body = { executable, ...(args.length ? { arguments: args } : {}) };
    return [
      merge({
        type: 'command-line',
        name: commandLine.join(' ').slice(0, 200),
        parameters,
      }),
    ];
  }
  if (flags.type !== undefined) return [merge({})];
  throw new CliError(
    'nothing to submit: give a command (drover submit -- echo hello), --file job.yaml, or --type NAME --param k=v',
  );
}

async function submitAll(client: ApiClient, jobs: Body[], json: boolean): Promise<void> {
  const submitted: Job[] = [];
  for (const [i, body] of jobs.entries()) {
    try {
      const job = await client.post<Job>('/jobs', body);
      submitted.push(job);
      if (!json) out(`${job.id}\n`);
    } catch (error) {
      if (json && submitted.length) printJson(submitted);
      if (
        jobs.length > 1 &&
        error instanceof CliError &&
        !error.message.startsWith('cannot reach')
      ) {
        throw new CliError(`job ${i + 1} of ${jobs.length} was refused: ${error.message}`);
      }
      throw error;
    }
  }
  if (json) printJson(jobs.length === 1 ? submitted[0] : submitted);
}

export function registerSubmitCommand(program: Command): void {
  const integer = (name: string, min?: number) => optionParser(parseInteger(name, min));
  withClientOptions(
    program
      .command('submit')
      .summary('submit a job')
      .description(
        'Submit a job and print its id. Put -- before the command line:\n' +
          '  drover submit --frames 1-100 --chunk 10 -- render scene.blend -f {start}-{end}\n' +
          'or submit job files (the native submit body, one job or a list):\n' +
          '  drover submit --file job.yaml\n' +
          'or a Deadline Cloud job bundle (an OpenJD template and its parameter values):\n' +
          '  drover submit --bundle ./blender_render -p Frames=1-10\n' +
          'or a job of another type:  drover submit --type shell-script --param script="echo hi"',
      )
      .argument('[command...]', 'executable and arguments (frame tokens {start} {end} {frames})'),
  )
    .option('-f, --file <path>', 'a JSON or YAML job file; - reads stdin')
    .option(
      '--bundle <dir>',
      'a Deadline Cloud job bundle folder (template.yaml, parameter_values.yaml); -p sets its job parameters',
    )
    .option('--type <name>', 'job type (default command-line)')
    .option('--type-version <version>', 'job type version')
    .option(
      '-p, --param <name=value>',
      'a parameter; name:=json for JSON values (repeatable)',
      (v, p: string[] = []) => [...p, v],
    )
    .option(
      '--input <name=value>',
      'an input; name:=json for JSON values (repeatable)',
      (v, p: string[] = []) => [...p, v],
    )
    .option('--frames <list>', 'frame list, e.g. 1-100, 1-100x5, 1,3,7')
    .option('--chunk <n>', 'frames per task', integer('--chunk', 1))
    .option('--name <name>', 'job name')
    .option('--comment <text>', 'a comment')
    .option('--department <name>', 'department')
    .option('--project <name>', 'project (a weighted pool shared by project weighs it)')
    .option('--priority <n>', 'higher runs first (default 50)', integer('--priority'))
    .option('--pool <name>', 'pool of nodes')
    .option('--group <name>', 'group of nodes')
    .option('--max-tries <n>', 'tries per task before it fails', integer('--max-tries', 1))
    .option('--timeout <seconds>', 'task timeout in seconds (0 = none)', integer('--timeout', 0))
    .option(
      '--task-timeout-action <action>',
      'what a task past --timeout does: FAIL (kill it, fail the try; the default), ' +
        'COMPLETE (kill it, complete the task) or NOTIFY (flag it, let it run)',
      optionParser((text: string) => parseTaskTimeoutAction('--task-timeout-action', text)),
    )
    .option(
      '--job-timeout <seconds>',
      'job timeout in seconds (0 = none)',
      integer('--job-timeout', 0),
    )
    .option(
      '--depends-on <ids>',
      'jobs that must complete first (comma list)',
      optionParser((t: string, p: number[] = []) => [...p, ...parseIds([t])]),
    )
    .option(
      '--frame-dependent',
      'each task waits only for the same frames of the --depends-on jobs, not for all of them',
    )
    .option(
      '--on-dependency-failure <policy>',
      'when a job it depends on fails or is canceled: CANCEL this one too (the default), ' +
        'WAIT until that job is retried and completes, or RUN anyway',
      optionParser((text: string) => parseFailurePolicy('--on-dependency-failure', text)),
    )
    .option(
      '--machine-limit <n>',
      'at most this many nodes at once (0 = no limit)',
      integer('--machine-limit', 0),
    )
    .option('--allow <nodes>', 'only these nodes (comma list)', commaList)
    .option('--deny <nodes>', 'never these nodes (comma list)', commaList)
    .option('--limit <names>', 'limits (licences) each task takes (comma list)', commaList)
    .option('--cpus <n>', 'CPUs a task needs', optionParser(parseNumber('--cpus')))
    .option('--mem <MiB>', 'memory a task needs, MiB', optionParser(parseNumber('--mem')))
    .option('--gpus <n>', 'GPUs a task needs', optionParser(parseNumber('--gpus')))
    .option('--suspended', 'submit suspended (resume to run)')
    .option('--pending', 'submit pending (release to run)')
    .option('--protected', 'only you or an admin may delete, purge or archive it')
    .action(
      action(async (commandLine: string[], flags: SubmitFlags, command: Command) => {
        const common = commonFlags(command);
        const jobs = jobsToSubmit(commandLine, flags);
        await submitAll(clientOf(common), jobs, common.json);
      }),
    );
}
