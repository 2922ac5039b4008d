import { invalid } from './errors.js';
import { checkName, type InterfaceField } from './job-type-definition.js';

/**
 * A composite job type: each of its jobs is a parent of one child job per entry, made at
 * submission, and runs nothing itself. Its state follows its children's
 * (src/engine/job-families.ts). A child waits (PENDING on its dependencies) until the
 * siblings it names in `after` have completed.
 */
export interface ChildJob {
  /** Unique among the siblings; the parent's input and parameter of the same name feed it. */
  name: string;
  /** The job type of the child (any type, composite ones too). */
  type: string;
  version?: string;
  /** Earlier siblings it runs after. */
  after: string[];
}

/** Children of one composite type; a family is made in one transaction. */
export const MAX_CHILD_JOBS = 100;

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
    seen.add(name);
    return {
      name,
      type,
      ...(c.version !== undefined ? { version: c.version as string } : {}),
      after: [...new Set(after as string[])],
    };
  });
}

/** The interface a composite type derives from its children: one optional object each. */
export function childFields(children: readonly ChildJob[]): InterfaceField[] {
  return children.map((c) => ({ name: c.name, type: 'object', required: false }));
}
