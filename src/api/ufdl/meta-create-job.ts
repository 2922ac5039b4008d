import type { ChildJob } from '../../domain/child-jobs.js';
import type { JobTypeDefinition } from '../../domain/job-type-definition.js';
import type { EngineContext } from '../../engine/context.js';
import type { SubmitJobSpec } from '../../engine/jobs/job-submission.js';
import { findJobTypeByName, findRevision } from '../../store/job-types.js';
import { UfdlError } from './errors.js';
import type { NotificationOverride } from './job-json.js';

/*
 * create-job on a meta template (a Drover composite job type): UFDL names a child's values
 * `child:name` in the parent's input_values and parameter_values; the engine takes them as
 * one object per child. Each child is described as UFDL describes it ("child job 'x' of
 * meta-job T vN"), keeps the UFDL types of its own values and its notification override.
 */

type Typed = Record<string, { value: unknown; type: string }>;

export interface MetaJobParts {
  inputs: Record<string, Record<string, unknown>>;
  parameters: Record<string, Record<string, unknown>>;
  inputTypes: Record<string, string>;
  parameterTypes: Record<string, string>;
  childSpecs: NonNullable<SubmitJobSpec['childSpecs']>;
}

function split(values: Typed, children: readonly ChildJob[]) {
  const byChild: Record<string, Typed> = {};
  for (const [key, v] of Object.entries(values)) {
    const at = key.indexOf(':');
    const child = at > 0 ? key.slice(0, at) : '';
    // Values no child takes are dropped, as UFDL drops inputs a template does not take.
    if (!children.some((c) => c.name === child)) continue;
    (byChild[child] ??= {})[key.slice(at + 1)] = v;
  }
  return byChild;
}

/** The definition a child entry names (its type's latest revision), if that type exists. */
export async function childDefinition(
  ctx: EngineContext,
  child: ChildJob,
): Promise<JobTypeDefinition | undefined> {
  const type = await findJobTypeByName(ctx.db, child.type, child.version);
  const revision = type && (await findRevision(ctx.db, type.id, type.latest_revision));
  return revision ? (JSON.parse(revision.definition_json) as JobTypeDefinition) : undefined;
}

export async function metaJobParts(
  ctx: EngineContext,
  template: { name: string; version: string },
  children: readonly ChildJob[],
  inputValues: Typed,
  parameterValues: Typed,
  overrides: Record<string, NotificationOverride>,
): Promise<MetaJobParts> {
  for (const name of Object.keys(overrides)) {
    if (!children.some((c) => c.name === name)) {
      throw new UfdlError(400, `Bad descendant name '${name}' for meta-template ${template.name}`);
    }
  }
  const inputs = split(inputValues, children);
  const parameters = split(parameterValues, children);
  const parts: MetaJobParts = {
    inputs: {},
    parameters: {},
    inputTypes: {},
    parameterTypes: {},
    childSpecs: {},
  };
  for (const child of children) {
    const own = inputs[child.name] ?? {};
    const ownParameters = parameters[child.name] ?? {};
    const definition = await childDefinition(ctx, child);
    for (const input of definition?.inputs ?? []) {
      // An input a sibling's output fills is not asked for (UFDL: the dependency gives it).
      const fed = input.name in (child.inputsFrom ?? {});
      if (input.required && !fed && !(input.name in own)) {
        throw new UfdlError(
          406,
          `Invalid job input '${child.name}:${input.name}': a value is required`,
        );
      }
    }
    const values = (t: Typed) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.value]));
    const types = (t: Typed) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.type]));
    parts.inputs[child.name] = values(own);
    parts.parameters[child.name] = values(ownParameters);
    for (const [k, type] of Object.entries(types(own)))
      parts.inputTypes[`${child.name}:${k}`] = type;
    for (const [k, type] of Object.entries(types(ownParameters))) {
      parts.parameterTypes[`${child.name}:${k}`] = type;
    }
    const override = overrides[child.name];
    parts.childSpecs[child.name] = {
      comment: `child job '${child.name}' of meta-job ${template.name} v${template.version}`,
      dialect: {
        ufdl: {
          inputTypes: types(own),
          parameterTypes: types(ownParameters),
          ...(override ? { notificationOverride: override } : {}),
        },
      },
    };
  }
  return parts;
}
