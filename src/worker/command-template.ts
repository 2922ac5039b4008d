import { parseFrameList } from '../domain/frame-list.js';

/*
 * Fills a job type's command template for one task. The template is an argument array and
 * stays one: a value is never split on spaces or read by a shell, and the values put in are
 * not scanned for tokens again (a script may hold braces of its own).
 *
 *   {start} {end}        first and last frame of the task; {start:04} pads to 4 digits
 *                        (Deadline's <STARTFRAME%4>)
 *   {frames}             the task's frame list as written, e.g. 1-10x2
 *   {frame_list}         every frame of the task, comma separated: 1,3,5,7,9
 *   {input.NAME}         a job input; {param.NAME} a job parameter
 *   {output_dir}         the directory whose files become the job's outputs
 *   {job_id} {task_id} {execution_id}
 *
 * An argument that is exactly `{param.NAME...}` (or `{input.NAME...}`, `{frame_list...}`)
 * becomes one argument per element of an array value, none for a missing one; tokens written
 * in those elements (`-s {start}`) are filled as well, since they are arguments. An argument
 * that is exactly one token whose value is missing is dropped; inside a longer argument a
 * missing value is the empty string. Braces that are not a known token stay as written.
 */

export interface TemplateValues {
  jobId: number;
  taskId: number;
  executionId: number;
  frameStart: number;
  frameEnd: number;
  /** The task's frames as written; '' for a job without frames. */
  frames: string;
  inputs: Record<string, unknown>;
  parameters: Record<string, unknown>;
  outputDir: string;
}

const TOKEN =
  /\{(start|end|frames|frame_list|output_dir|job_id|task_id|execution_id|(?:input|param)\.[A-Za-z0-9_.-]+?)(?::0(\d{1,2}))?\}/g;
const SPREAD = /^\{(frame_list|(?:input|param)\.[A-Za-z0-9_.-]+?)\.\.\.\}$/;
const WHOLE = new RegExp(`^${TOKEN.source}$`);

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The task's frames, one by one; empty for a job without frames. */
export function frameListOf(frames: string): number[] {
  return frames.trim() === '' ? [] : parseFrameList(frames);
}

function lookup(name: string, v: TemplateValues): unknown {
  switch (name) {
    case 'start':
      return v.frameStart;
    case 'end':
      return v.frameEnd;
    case 'frames':
      return v.frames;
    case 'frame_list':
      return frameListOf(v.frames);
    case 'output_dir':
      return v.outputDir;
    case 'job_id':
      return v.jobId;
    case 'task_id':
      return v.taskId;
    case 'execution_id':
      return v.executionId;
  }
  if (name.startsWith('input.')) return v.inputs[name.slice('input.'.length)];
  return v.parameters[name.slice('param.'.length)];
}

/** How a value reads as one argument. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((x) => typeof x !== 'object' || x === null)) {
    return value.map(asText).join(',');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value as number | boolean);
}

/** A frame number zero-padded to `width` digits, the sign kept in front: -0005. */
function padded(value: unknown, width: string | undefined): string {
  if (width === undefined || typeof value !== 'number') return asText(value);
  const digits = String(Math.abs(value)).padStart(Number(width), '0');
  return value < 0 ? `-${digits}` : digits;
}

/** Fills the tokens of one string. */
export function fillTokens(text: string, values: TemplateValues): string {
  return text.replace(TOKEN, (_match, name: string, width?: string) =>
    padded(lookup(name, values), width),
  );
}

/** The argument array of one task. */
export function buildArgv(template: readonly string[], values: TemplateValues): string[] {
  const argv: string[] = [];
  for (const arg of template) {
    const spread = SPREAD.exec(arg);
    if (spread?.[1]) {
      const value = lookup(spread[1], values);
      if (value === undefined || value === null) continue;
      const items: unknown[] = Array.isArray(value) ? value : [value];
      // Elements are arguments written by the user (the command-line type's `arguments`):
      // their own tokens, such as {start}, are filled too, once.
      argv.push(...items.map((x) => (typeof x === 'string' ? fillTokens(x, values) : asText(x))));
      continue;
    }
    const whole = WHOLE.exec(arg);
    if (whole?.[1]) {
      const value = lookup(whole[1], values);
      if (value === undefined || value === null) continue;
      argv.push(padded(value, whole[2]));
      continue;
    }
    argv.push(fillTokens(arg, values));
  }
  if (argv.length === 0 || argv[0] === '') {
    throw new TemplateError('the command is empty once its tokens are filled in');
  }
  return argv;
}

/** Env vars of the worker that a task (or an OpenJD environment's action) must not inherit. */
const PRIVATE_ENV = ['DROVER_TOKEN'];

/** The environment every command starts from: the worker's, without its secrets. */
export function workerBaseEnv(nodeName: string): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, DROVER_NODE_NAME: nodeName };
  for (const name of PRIVATE_ENV) delete base[name];
  return base;
}

/** The environment of one task: the worker's own, the job type's, and DROVER_* facts. */
export function buildEnv(
  base: NodeJS.ProcessEnv,
  typeEnv: Record<string, string>,
  values: TemplateValues,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [key, value] of Object.entries(typeEnv)) env[key] = fillTokens(value, values);
  return {
    ...env,
    DROVER_JOB_ID: String(values.jobId),
    DROVER_TASK_ID: String(values.taskId),
    DROVER_EXECUTION_ID: String(values.executionId),
    DROVER_START: String(values.frameStart),
    DROVER_END: String(values.frameEnd),
    DROVER_FRAMES: values.frames,
    DROVER_OUTPUT_DIR: values.outputDir,
  };
}
