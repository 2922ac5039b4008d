import YAML from 'yaml';
import { checkHostRequirements, type HostRequirements } from './host-requirements.js';
import {
  checkParameterDefinition,
  MAX_JOB_PARAMETERS,
  type JobParameterDefinition,
  type JobParameterType,
} from './job-parameters.js';
import { checkParameterSpace, type ParameterSpace } from './parameter-space.js';
import { at, checkList, checkString, isRecord, onlyKeys, Problems } from './template-problems.js';
import {
  checkEnvironment,
  checkFormatString,
  checkStepScript,
  type Environment,
  type Scope,
  type StepScript,
} from './template-scripts.js';

/*
 * An OpenJD job template (`specificationVersion: jobtemplate-2023-09`), checked whole
 * against the 2023-09 schema. The result keeps what a job is made of; every problem is
 * refused with its path in the document (template-problems.ts).
 */

export const SPECIFICATION_VERSION = 'jobtemplate-2023-09';
/** Extensions this server implements; a template asking for another is refused. */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['TASK_CHUNKING', 'REDACTED_ENV_VARS'];
/** Bytes of one template document, JSON or YAML. */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;
/** Steps of one template: each becomes a job (Drover's implementation limit). */
export const MAX_STEPS = 100;

export interface StepTemplate {
  name: string;
  /** Its place in the document's `steps`, for paths in messages. */
  index: number;
  /** Names of the steps it runs after. */
  dependsOn: string[];
  parameterSpace?: ParameterSpace;
  script: StepScript;
  stepEnvironments: Environment[];
  hostRequirements?: HostRequirements;
}

export interface JobTemplate {
  /** A format string over the job parameters. */
  name: string;
  description?: string;
  extensions: string[];
  parameterDefinitions: JobParameterDefinition[];
  jobEnvironments: Environment[];
  /** In an order where each step comes after the steps it depends on. */
  steps: StepTemplate[];
}

const ROOT_KEYS = [
  'specificationVersion',
  '$schema',
  'extensions',
  'name',
  'description',
  'parameterDefinitions',
  'jobEnvironments',
  'steps',
];
const STEP_KEYS = [
  'name',
  'description',
  'dependencies',
  'stepEnvironments',
  'hostRequirements',
  'parameterSpace',
  'script',
];

/** Reads a template given as a document (JSON or YAML text) or as an already parsed object. */
export function readTemplateDocument(input: unknown): unknown {
  const problems = new Problems();
  const size = Buffer.byteLength(typeof input === 'string' ? input : (JSON.stringify(input) ?? ''));
  if (size > MAX_TEMPLATE_BYTES) {
    problems.add('', `the document is larger than ${MAX_TEMPLATE_BYTES} bytes`);
    problems.throwIfAny('the job template');
  }
  if (typeof input !== 'string') return input;
  try {
    // JSON is YAML 1.2; the alias bound stops a document that expands without end.
    return YAML.parse(input, { maxAliasCount: 100, prettyErrors: true });
  } catch (error) {
    problems.add('', `not a JSON or YAML document: ${(error as Error).message.split('\n')[0]}`);
    problems.throwIfAny('the job template');
  }
}

/** Checks a parsed template; throws a 400 listing every problem. */
export function checkJobTemplate(doc: unknown): JobTemplate {
  const problems = new Problems();
  const template = check(problems, doc);
  problems.throwIfAny('the job template');
  return template!;
}

function check(problems: Problems, doc: unknown): JobTemplate | undefined {
  if (!isRecord(doc)) {
    problems.add('', 'a job template must be an object');
    return undefined;
  }
  if (doc.specificationVersion !== SPECIFICATION_VERSION) {
    problems.add('specificationVersion', `must be "${SPECIFICATION_VERSION}"`);
    return undefined;
  }
  onlyKeys(problems, '', doc, ROOT_KEYS);
  const extensions: string[] = [];
  if (doc.extensions !== undefined) {
    checkList(problems, 'extensions', doc.extensions, 1, 100).forEach((e, i) => {
      if (typeof e !== 'string' || !/^[A-Z_0-9]{3,128}$/.test(e)) {
        problems.add(at('extensions', i), 'must be an extension name: 3-128 of A-Z, 0-9, "_"');
      } else if (!SUPPORTED_EXTENSIONS.includes(e)) {
        problems.add(
          at('extensions', i),
          `extension ${e} is not supported; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`,
        );
      } else if (extensions.includes(e)) problems.add(at('extensions', i), `${e} is listed twice`);
      else extensions.push(e);
    });
  }
  const parameterDefinitions: JobParameterDefinition[] = [];
  if (doc.parameterDefinitions !== undefined) {
    const list = checkList(
      problems,
      'parameterDefinitions',
      doc.parameterDefinitions,
      1,
      MAX_JOB_PARAMETERS,
    );
    list.forEach((raw, i) => {
      const def = checkParameterDefinition(problems, at('parameterDefinitions', i), raw);
      if (!def) return;
      if (parameterDefinitions.some((d) => d.name === def.name)) {
        problems.add(at(at('parameterDefinitions', i), 'name'), `"${def.name}" is defined twice`);
      }
      parameterDefinitions.push(def);
    });
  }
  // Names of parameters whose definitions failed still count, so that their references
  // are not reported a second time as unknown.
  const params = new Map<string, JobParameterType>(
    (Array.isArray(doc.parameterDefinitions) ? doc.parameterDefinitions : []).flatMap((d) =>
      isRecord(d) && typeof d.name === 'string' ? [[d.name, d.type as JobParameterType]] : [],
    ),
  );
  const templateScope: Scope = { params, host: false };
  const name = checkString(problems, 'name', doc.name, { min: 1, noControl: true });
  if (name !== undefined) checkFormatString(problems, 'name', name, templateScope);
  if (doc.description !== undefined) {
    checkString(problems, 'description', doc.description, {
      min: 1,
      max: 2048,
      noControlButWhitespace: true,
    });
  }
  const envNames = new Map<string, string>();
  const environments = (path: string, raw: unknown): Environment[] => {
    if (raw === undefined) return [];
    return checkList(problems, path, raw, 1, 100).flatMap((e, i) => {
      const env = checkEnvironment(problems, at(path, i), e, templateScope);
      if (!env) return [];
      const other = envNames.get(env.name);
      if (other !== undefined) {
        problems.add(
          at(at(path, i), 'name'),
          `"${env.name}" is also the name of ${other}; environment names must differ`,
        );
      }
      envNames.set(env.name, at(path, i));
      return [env];
    });
  };
  const jobEnvironments = environments('jobEnvironments', doc.jobEnvironments);
  const jobEnvNames = new Map(envNames);
  const steps: StepTemplate[] = [];
  const stepList = checkList(problems, 'steps', doc.steps, 1, MAX_STEPS);
  const stepNames = stepList.map((s) =>
    isRecord(s) && typeof s.name === 'string' ? s.name : undefined,
  );
  stepList.forEach((raw, i) => {
    const path = at('steps', i);
    if (!isRecord(raw)) {
      problems.add(path, 'must be an object');
      return;
    }
    onlyKeys(problems, path, raw, STEP_KEYS);
    const stepName = checkString(problems, at(path, 'name'), raw.name, {
      min: 1,
      max: 64,
      noControl: true,
    });
    if (stepName !== undefined && stepNames.indexOf(stepName) !== i) {
      problems.add(
        at(path, 'name'),
        `"${stepName}" is also the name of steps[${stepNames.indexOf(stepName)}]; step names must be unique`,
      );
    }
    if (raw.description !== undefined) {
      checkString(problems, at(path, 'description'), raw.description, {
        min: 1,
        max: 2048,
        noControlButWhitespace: true,
      });
    }
    const dependsOn: string[] = [];
    if (raw.dependencies !== undefined) {
      const dpath = at(path, 'dependencies');
      checkList(problems, dpath, raw.dependencies, 1, MAX_STEPS).forEach((d, k) => {
        const on = isRecord(d) ? d.dependsOn : undefined;
        const opath = at(at(dpath, k), 'dependsOn');
        if (isRecord(d)) onlyKeys(problems, at(dpath, k), d, ['dependsOn']);
        if (typeof on !== 'string') problems.add(opath, 'must be the name of a step');
        else if (on === stepName) problems.add(opath, 'a step cannot depend on itself');
        else if (!stepNames.includes(on)) problems.add(opath, `no step is named "${on}"`);
        else if (dependsOn.includes(on)) problems.add(opath, `"${on}" is named twice`);
        else dependsOn.push(on);
      });
    }
    let parameterSpace: ParameterSpace | undefined;
    if (raw.parameterSpace !== undefined) {
      parameterSpace = checkParameterSpace(
        problems,
        at(path, 'parameterSpace'),
        raw.parameterSpace,
        new Set(extensions),
        (p, v) => checkFormatString(problems, p, v, templateScope),
      );
    }
    let hostRequirements: HostRequirements | undefined;
    if (raw.hostRequirements !== undefined) {
      hostRequirements = checkHostRequirements(
        problems,
        at(path, 'hostRequirements'),
        raw.hostRequirements,
        (p, v) => checkFormatString(problems, p, v, templateScope),
      );
    }
    // Step environment names are unique among the job's and this step's, not across steps.
    envNames.clear();
    for (const [k, v] of jobEnvNames) envNames.set(k, v);
    const stepEnvironments = environments(at(path, 'stepEnvironments'), raw.stepEnvironments);
    const taskParams = new Set(
      (isRecord(raw.parameterSpace) && Array.isArray(raw.parameterSpace.taskParameterDefinitions)
        ? raw.parameterSpace.taskParameterDefinitions
        : []
      ).flatMap((t) => (isRecord(t) && typeof t.name === 'string' ? [t.name] : [])),
    );
    const script = checkStepScript(problems, at(path, 'script'), raw.script, {
      ...templateScope,
      taskParams,
    });
    if (!script || stepName === undefined) return;
    steps.push({
      name: stepName,
      index: i,
      dependsOn,
      script,
      stepEnvironments,
      ...(parameterSpace ? { parameterSpace } : {}),
      ...(hostRequirements ? { hostRequirements } : {}),
    });
  });
  const ordered = dependencyOrder(problems, steps, stepNames);
  if (name === undefined) return undefined;
  return {
    name,
    ...(typeof doc.description === 'string' ? { description: doc.description } : {}),
    extensions,
    parameterDefinitions,
    jobEnvironments,
    steps: ordered,
  };
}

/** The steps with each after those it depends on; a cycle is a problem naming it. */
function dependencyOrder(
  problems: Problems,
  steps: StepTemplate[],
  names: (string | undefined)[],
): StepTemplate[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const done = new Set<string>();
  const visiting: string[] = [];
  const out: StepTemplate[] = [];
  const reported = new Set<string>();
  const visit = (step: StepTemplate): void => {
    if (done.has(step.name)) return;
    const at = visiting.indexOf(step.name);
    if (at !== -1) {
      const cycle = [...visiting.slice(at), step.name];
      const key = [...cycle].sort().join('\u0000');
      if (!reported.has(key)) {
        reported.add(key);
        problems.add(
          `steps[${names.indexOf(step.name)}].dependencies`,
          `the dependencies make a cycle: ${cycle.map((n) => `"${n}"`).join(' → ')}`,
        );
      }
      return;
    }
    visiting.push(step.name);
    for (const on of step.dependsOn) {
      const dep = byName.get(on);
      if (dep) visit(dep);
    }
    visiting.pop();
    done.add(step.name);
    out.push(step);
  };
  for (const step of steps) visit(step);
  return out;
}
