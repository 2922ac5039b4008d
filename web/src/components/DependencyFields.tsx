import {
  DEPENDENCY_FAILURE_POLICIES,
  DEPENDENCY_FAILURE_TEXT,
  offsetValue,
  parseJobIds,
  type DependencyFailurePolicy,
} from '../lib/dependencies';
import { Field } from './Field';

/*
 * The dependency settings of a submission (POST /api/v1/jobs): the jobs it waits on, what
 * it does when one of them fails or is canceled (onDependencyFailure), and whether it waits
 * frame by frame (frameDependent, with Deadline's frame offsets). For an OpenJD template,
 * frameDependent also makes steps wait on each other frame by frame (docs/openjd.md).
 */

export const DEPENDENCY_FIELDS = [
  'dependencies',
  'onDependencyFailure',
  'frameDependent',
  'frameOffsetStart',
  'frameOffsetEnd',
] as const;
export type DependencyField = (typeof DEPENDENCY_FIELDS)[number];

export interface DependencyValues {
  dependencies: string;
  onDependencyFailure: DependencyFailurePolicy;
  frameDependent: boolean;
  frameOffsetStart: string;
  frameOffsetEnd: string;
}

export const EMPTY_DEPENDENCIES: DependencyValues = {
  dependencies: '',
  onDependencyFailure: 'CANCEL',
  frameDependent: false,
  frameOffsetStart: '0',
  frameOffsetEnd: '0',
};

/** The body's fields, or the field at fault. Defaults are left out: the server has them. */
export function dependencyBody(
  v: DependencyValues,
): { body: Record<string, unknown> } | { field: DependencyField; error: string } {
  const parsed = parseJobIds(v.dependencies);
  if ('error' in parsed) return { field: 'dependencies', error: parsed.error };
  const start = offsetValue(v.frameOffsetStart);
  const end = offsetValue(v.frameOffsetEnd);
  return {
    body: {
      ...(parsed.ids.length > 0 ? { dependencies: parsed.ids } : {}),
      onDependencyFailure: v.onDependencyFailure,
      ...(v.frameDependent ? { frameDependent: true } : {}),
      ...(v.frameDependent && start !== 0 ? { frameOffsetStart: start } : {}),
      ...(v.frameDependent && end !== 0 ? { frameOffsetEnd: end } : {}),
    },
  };
}

export function DependencyFields({
  values,
  errors,
  onChange,
  frameHint,
}: {
  values: DependencyValues;
  errors: Partial<Record<DependencyField, string | undefined>>;
  onChange: (field: DependencyField, value: DependencyValues[DependencyField]) => void;
  frameHint: string;
}) {
  return (
    <fieldset className="param-group dependency-fields" data-testid="dependency-fields">
      <legend>Dependencies</legend>
      <Field
        label="Depends on"
        name="dependencies"
        error={errors.dependencies}
        hint="Ids of the jobs this job waits for, e.g. 12, 14; empty: none"
      >
        <input
          id="field-dependencies"
          name="dependencies"
          value={values.dependencies}
          onChange={(e) => onChange('dependencies', e.target.value)}
        />
      </Field>
      <Field
        label="If a dependency fails"
        name="onDependencyFailure"
        error={errors.onDependencyFailure}
        hint="When a job it waits for fails or is canceled"
      >
        <select
          id="field-onDependencyFailure"
          name="onDependencyFailure"
          value={values.onDependencyFailure}
          onChange={(e) => onChange('onDependencyFailure', e.target.value)}
        >
          {DEPENDENCY_FAILURE_POLICIES.map((p) => (
            <option key={p} value={p}>
              {p}: {DEPENDENCY_FAILURE_TEXT[p]}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label="Frame by frame"
        name="frameDependent"
        error={errors.frameDependent}
        hint={frameHint}
      >
        <input
          id="field-frameDependent"
          name="frameDependent"
          type="checkbox"
          checked={values.frameDependent}
          onChange={(e) => onChange('frameDependent', e.target.checked)}
        />
      </Field>
      {values.frameDependent && (
        <>
          <Field
            label="Frame offset start"
            name="frameOffsetStart"
            error={errors.frameOffsetStart}
            hint="Frame N waits for frames N+start to N+end of its dependencies; 0 and 0: the same frame"
          >
            <input
              id="field-frameOffsetStart"
              name="frameOffsetStart"
              inputMode="numeric"
              value={values.frameOffsetStart}
              onChange={(e) => onChange('frameOffsetStart', e.target.value)}
            />
          </Field>
          <Field label="Frame offset end" name="frameOffsetEnd" error={errors.frameOffsetEnd}>
            <input
              id="field-frameOffsetEnd"
              name="frameOffsetEnd"
              inputMode="numeric"
              value={values.frameOffsetEnd}
              onChange={(e) => onChange('frameOffsetEnd', e.target.value)}
            />
          </Field>
        </>
      )}
    </fieldset>
  );
}
