import { invalid } from './errors.js';
import { checkName, type InterfaceField } from './job-type-definition.js';

/**
 * A composite job type: each of its jobs is a parent of one child job per entry, made at
 * submission, and runs nothing itself. Its state follows its children's
 * (src/engine/jobs/job-families.ts). A child waits (PENDING on its dependencies) until the
 * siblings it names in `after` have completed, and takes the outputs `inputsFrom` names
 * as inputs when they complete (src/engine/jobs/child-inputs.ts).
 */
export interface ChildJob {
  /** Unique among the siblings; the parent's input and parameter of the same name feed it. */
  name: string;
  /** The job type of the child (any type, composite ones too). */
  type: string;
  version?: string;
  /** Earlier siblings it runs after (those it takes outputs from among them). */
  after: string[];
  /**
   * Inputs of the child filled from an earlier sibling's output (by name, and by type when
   * given) once that sibling completes: the value is the output's id. A value given for the
   * input at submission wins, as in UFDL's meta templates.
   */
  inputsFrom?: Record<string, ChildInputSource>;
}

export interface ChildInputSource {
  /** The earlier sibling whose output it is. */
  child: string;
  output: string;
  type?: string;
}

/** Children of one composite type; a family is made in one transaction. */
export const MAX_CHILD_JOBS = 100;
/** Inputs of one child fed from its siblings' outputs. */
export const MAX_FED_INPUTS = 100;

/**
 * Checks a definition's `children`. Each child's values come in the parent's input (and
 * parameter) named after the child, an object, so a composite type's interface is derived
 * from its children: it declares no inputs, parameters or command of its own.
 */
export function normaliseChildren(raw: unknown): ChildJob[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_CHILD_JOBS) {
    throw invalid(`children must be a list of 1 to ${MAX_CHILD_JOBS} child jobs`, {
      field: 'children',
    });
  }
  const seen = new Set<string>();
  return raw.map((item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw invalid('each child must be an object {name, type, version?, after?}', {
        field: 'children',
      });
    }
    const c = item as Record<string, unknown>;
    const name = checkName('child name', c.name);
    if (seen.has(name)) throw invalid(`child name "${name}" is used twice`, { field: 'children' });
    const type = checkName(`child "${name}" type`, c.type);
    if (c.version !== undefined && (typeof c.version !== 'string' || c.version.length > 100)) {
      throw invalid(`child "${name}": version must be a string of at most 100 characters`, {
        field: 'children',
      });
    }
    const after = c.after ?? [];
    if (!Array.isArray(after) || after.some((a) => typeof a !== 'string' || !seen.has(a))) {
      throw invalid(`child "${name}": after must list names of children before it`, {
        field: 'children',
      });
    }
    const inputsFrom = c.inputsFrom === undefined ? undefined : sources(name, c.inputsFrom, seen);
    seen.add(name);
    // A child runs after the siblings it takes outputs from: their outputs exist only then.
    const fedBy = Object.values(inputsFrom ?? {}).map((s) => s.child);
    return {
      name,
      type,
      ...(c.version !== undefined ? { version: c.version as string } : {}),
      after: [...new Set([...(after as string[]), ...fedBy])],
      ...(inputsFrom ? { inputsFrom } : {}),
    };
  });
}

function sources(
  name: string,
  raw: unknown,
  earlier: ReadonlySet<string>,
): Record<string, ChildInputSource> {
  const fail = (why: string): never => {
    throw invalid(`child "${name}": inputsFrom${why}`, { field: 'children' });
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(' must be an object {input: {child, output, type?}}');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_FED_INPUTS) fail(` may name at most ${MAX_FED_INPUTS} inputs`);
  const out: Record<string, ChildInputSource> = {};
  for (const [input, value] of entries) {
    checkName(`child "${name}" input`, input);
    const v = value as Record<string, unknown>;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      fail(`.${input} must be an object {child, output, type?}`);
    }
    const extra = Object.keys(v).find((k) => !['child', 'output', 'type'].includes(k));
    if (extra) fail(`.${input} has an unknown field "${extra}"`);
    if (typeof v.child !== 'string' || !earlier.has(v.child)) {
      fail(`.${input}.child must name a child before "${name}"`);
    }
    const output = checkName(`child "${name}" input ${input} output`, v.output);
    if (v.type !== undefined && (typeof v.type !== 'string' || v.type.length > 200)) {
      fail(`.${input}.type must be a string of at most 200 characters`);
    }
    out[input] = {
      child: v.child as string,
      output,
      ...(v.type !== undefined ? { type: v.type as string } : {}),
    };
  }
  return out;
}

/** The interface a composite type derives from its children: one optional object each. */
export function childFields(children: readonly ChildJob[]): InterfaceField[] {
  return children.map((c) => ({ name: c.name, type: 'object', required: false }));
}
