import type { BuiltinJobType } from '../../domain/builtin-job-types.js';
import { MAX_TARGET_TASK_SECONDS } from '../../domain/job-bounds.js';
import { NO_RESOURCES } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import {
  MAX_TASKS_PER_JOB,
  submitJob,
  type InlineChild,
  type SubmitJobSpec,
} from '../../engine/jobs/job-submission.js';
import { FormatStringError, resolveFormatString } from './format-strings.js';
import { jobParameterValues } from './job-parameters.js';
import { checkJobTemplate, readTemplateDocument, type StepTemplate } from './job-template.js';
import { OPENJD_STEP_TYPE, type StepRun } from './openjd-run.js';
import { expandParameterSpace, SpaceError } from './parameter-space.js';
import { frameByFrameSteps, frameParameter, framesOf } from './step-frames.js';
import { stepRequirements } from './step-requirements.js';
import { at, Problems } from './template-problems.js';

/*
 * An OpenJD job as Drover jobs: a parent job (type openjd-job) without tasks of its own,
 * and one child job per step (type openjd-step), each running after the steps it depends
 * on through job dependencies. A step's tasks are the points of its parameter space, each
 * task holding its parameter values; the step job holds what the worker needs to run a
 * task (openjd-run.ts): the onRun action, the embedded files, and the job parameters'
 * values as the symbols Param.X and RawParam.X. The parent keeps the template and the
 * values as submitted.
 */

export const OPENJD_JOB_TYPE = 'openjd-job';

const common = {
  inputs: [],
  outputs: [],
  resources: NO_RESOURCES,
  taskTimeout: 0,
  maxTries: 3,
  priority: 50,
  env: {},
};

export const OPENJD_JOB_TYPES: readonly BuiltinJobType[] = [
  {
    name: OPENJD_JOB_TYPE,
    version: '1',
    title: 'OpenJD job',
    description:
      'A job made from an Open Job Description template: its steps are its child jobs, submitted with POST /api/v1/jobs {template, parameters}.',
    category: 'openjd',
    definition: { ...common, command: [], parameters: [] },
  },
  {
    name: OPENJD_STEP_TYPE,
    version: '1',
    title: 'OpenJD step',
    description:
      "One step of an OpenJD job: each task runs the step's onRun action with its task parameters.",
    category: 'openjd',
    definition: {
      ...common,
      command: [],
      parameters: [{ name: 'openjd', type: 'object', required: true }],
    },
  },
];

/** The job-level settings a submission may give beside the template. */
export type OpenjdJobSettings = Omit<
  SubmitJobSpec,
  | 'type'
  | 'typeVersion'
  | 'frames'
  | 'chunkSize'
  | 'inputs'
  | 'parameters'
  | 'resources'
  | 'taskTimeout'
  | 'tasks'
  | 'children'
  | 'childSpecs'
>;

const MAX_JOB_NAME = 128;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A step whose parameter space is one CHUNK[INT] with `targetRuntimeSeconds` above 0 has
 * adaptive chunks (src/engine/tasks/adaptive-chunks.ts). With other task parameters beside
 * it the chunks keep `defaultTaskCount`, which the specification allows: adaptive
 * chunking is a worker's option there.
 */
function adaptiveChunks(
  problems: Problems,
  path: string,
  step: StepTemplate,
  symbols: ReadonlyMap<string, string>,
): { targetTaskSeconds: number; contiguousChunks: boolean } | undefined {
  const params = step.parameterSpace?.parameters ?? [];
  const chunked = params[0];
  const target = chunked?.chunks?.targetRuntimeSeconds;
  if (params.length !== 1 || chunked?.type !== 'CHUNK[INT]' || target === undefined)
    return undefined;
  let seconds: number;
  try {
    seconds = Number(resolveFormatString(target, symbols));
  } catch (error) {
    if (!(error instanceof FormatStringError)) throw error;
    problems.add(at(at(at(path, 'taskParameterDefinitions'), 0), 'chunks'), error.message);
    return undefined;
  }
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TARGET_TASK_SECONDS) {
    problems.add(
      at(at(at(at(path, 'taskParameterDefinitions'), 0), 'chunks'), 'targetRuntimeSeconds'),
      `resolves to "${target}": an integer from 0 to ${MAX_TARGET_TASK_SECONDS} is needed`,
    );
    return undefined;
  }
  if (seconds === 0) return undefined;
  return {
    targetTaskSeconds: seconds,
    contiguousChunks: chunked.chunks?.rangeConstraint !== 'NONCONTIGUOUS',
  };
}

function pathTaskParameters(step: StepTemplate): { pathTaskParameters?: string[] } {
  const names = (step.parameterSpace?.parameters ?? [])
    .filter((p) => p.type === 'PATH')
    .map((p) => p.name);
  return names.length > 0 ? { pathTaskParameters: names } : {};
}

/** The settings that govern running tasks: the steps' jobs take them from the submission. */
function perStep(settings: OpenjdJobSettings): Partial<SubmitJobSpec> {
  const keys = [
    'machineLimit',
    'machineLimitRelease',
    'allowList',
    'denyList',
    'taskTimeoutAction',
    'jobTimeout',
    'retryAnyError',
    'protected',
  ] as const;
  return Object.fromEntries(
    keys.flatMap((k) => (settings[k] === undefined ? [] : [[k, settings[k]]])),
  );
}

/** Validates the template and values, and submits the parent job with a child per step. */
export async function submitOpenjdJob(
  ctx: EngineContext,
  input: { template: unknown; parameters?: Record<string, unknown>; settings: OpenjdJobSettings },
): Promise<number> {
  const { settings } = input;
  const doc = readTemplateDocument(input.template);
  const template = checkJobTemplate(doc);
  const problems = new Problems();
  const values = jobParameterValues(
    problems,
    template.parameterDefinitions,
    input.parameters ?? {},
  );
  problems.throwIfAny('the submission');

  const symbols = new Map<string, string>();
  for (const [name, value] of values) {
    // Where a PATH parameter's mapped value may stand (scripts, environments), the worker
    // maps it (openjd-run.ts); elsewhere only RawParam.X may be used, as given.
    symbols.set(`Param.${name}`, value);
    symbols.set(`RawParam.${name}`, value);
  }
  let name = '';
  try {
    name = resolveFormatString(template.name, symbols);
  } catch (error) {
    if (!(error instanceof FormatStringError)) throw error;
    problems.add('name', error.message);
  }
  if ([...name].length > MAX_JOB_NAME || name.length === 0 || CONTROL.test(name)) {
    problems.add(
      'name',
      `resolves to "${name}": a job name is 1 to ${MAX_JOB_NAME} characters without control characters`,
    );
  }
  const pathParameters = template.parameterDefinitions
    .filter((d) => d.type === 'PATH')
    .map((d) => d.name);
  let total = 0;
  const children: InlineChild[] = [];
  for (const step of template.steps) {
    const path = at('steps', step.index);
    const { resources, limits, host } = stepRequirements(
      problems,
      at(path, 'hostRequirements'),
      step.hostRequirements,
      symbols,
    );
    let points: Record<string, string>[];
    try {
      points = expandParameterSpace(step.parameterSpace, symbols, MAX_TASKS_PER_JOB - total);
    } catch (error) {
      if (!(error instanceof SpaceError)) throw error;
      const where = step.parameterSpace?.parameters.findIndex((p) => p.name === error.path) ?? -1;
      const p = at(path, 'parameterSpace');
      problems.add(
        where === -1
          ? at(p, 'combination')
          : at(at(at(p, 'taskParameterDefinitions'), where), 'range'),
        error.message,
      );
      continue;
    }
    total += points.length;
    const run: StepRun = {
      step: step.name,
      onRun: step.script.onRun,
      embeddedFiles: step.script.embeddedFiles,
      symbols: Object.fromEntries(symbols),
      // Resolved on the worker, which alone knows Session.WorkingDirectory and Env.File.X;
      // the template check has made sure that every name they use is defined.
      ...(template.jobEnvironments.length > 0 ? { jobEnvironments: template.jobEnvironments } : {}),
      ...(step.stepEnvironments.length > 0 ? { stepEnvironments: step.stepEnvironments } : {}),
      // The worker maps these by its path mapping rules, which only it knows.
      ...(pathParameters.length > 0 ? { pathParameters } : {}),
      ...pathTaskParameters(step),
      ...(template.extensions.includes('REDACTED_ENV_VARS') ? { redactedEnv: true } : {}),
    };
    const adaptive = adaptiveChunks(problems, at(path, 'parameterSpace'), step, symbols);
    // Asked to, tasks wait only for the same frames of the steps they depend on; adaptive
    // chunks carry their frames too, which re-chunking reads.
    const frame =
      settings.frameDependent || adaptive ? frameParameter(step.parameterSpace) : undefined;
    children.push({
      name: step.name,
      after: step.dependsOn,
      ...(settings.frameDependent ? { afterByFrame: frameByFrameSteps(step, template.steps) } : {}),
      spec: {
        type: OPENJD_STEP_TYPE,
        name: `${name} / ${step.name}`,
        parameters: { openjd: run },
        tasks: points.map((parameters) => {
          const frames = frame === undefined ? undefined : framesOf(parameters[frame]);
          return frames ? { parameters, frames } : { parameters };
        }),
        taskTimeout: step.script.onRun.timeout ?? 0,
        ...(adaptive ?? {}),
        ...perStep(settings),
        ...(Object.keys(resources).length > 0 ? { resources } : {}),
        ...(host ? { hostRequirement: host } : {}),
        // A step's own limits beside the submission's, which every step takes.
        ...(limits.length > 0
          ? { limits: [...new Set([...(settings.limits ?? []), ...limits])] }
          : {}),
      },
    });
  }
  problems.throwIfAny('the submission');
  return submitJob(ctx, {
    ...settings,
    type: OPENJD_JOB_TYPE,
    name: settings.name?.trim() || name,
    children,
    dialect: { openjd: { template: doc, parameters: Object.fromEntries(values) } },
  });
}
