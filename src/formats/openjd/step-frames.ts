import type { StepTemplate } from './job-template.js';
import type { ParameterSpace } from './parameter-space.js';
import { parseRangeExpr, RangeExprError } from './range-expressions.js';

/*
 * Frame-by-frame dependencies between steps (a submission's `frameDependent`): OpenJD says
 * a step waits for every task of the steps it depends on. Asked to, Drover lets a task wait
 * only for the tasks of those steps that cover the same frames, where both steps have the
 * same frame parameter: the first INT or CHUNK[INT] task parameter of each, by name
 * (render's Frame and encode's Frame). Other dependencies stay whole-step ones.
 */

/** The step's frame parameter, its first INT or CHUNK[INT] task parameter, if any. */
export function frameParameter(space: ParameterSpace | undefined): string | undefined {
  return space?.parameters.find((p) => p.type === 'INT' || p.type === 'CHUNK[INT]')?.name;
}

/** The steps `step` depends on that share its frame parameter. */
export function frameByFrameSteps(
  step: Pick<StepTemplate, 'dependsOn' | 'parameterSpace'>,
  steps: readonly Pick<StepTemplate, 'name' | 'parameterSpace'>[],
): string[] {
  const mine = frameParameter(step.parameterSpace);
  if (mine === undefined) return [];
  return step.dependsOn.filter(
    (name) => frameParameter(steps.find((s) => s.name === name)?.parameterSpace) === mine,
  );
}

/** The span of frames a task's value of the frame parameter covers (`7` or `1-10`). */
export function framesOf(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  try {
    // A chunk holds at most the space's size, which expandParameterSpace bounded already.
    const values = parseRangeExpr(value, Number.MAX_SAFE_INTEGER);
    if (values.length === 0) return undefined;
    let [start, end] = [values[0]!, values[0]!];
    for (const v of values) [start, end] = [Math.min(start, v), Math.max(end, v)];
    return { start, end };
  } catch (error) {
    if (error instanceof RangeExprError) return undefined;
    throw error;
  }
}
