/**
 * Drover orders jobs by one canonical integer priority: higher runs first, default 50 —
 * Deadline's own scale, so Deadline priorities are stored as they are.
 *
 * Scale runs lower numbers first and defaults to 100. The mapping is a reflection around
 * 150 so that both defaults meet at 50, the order between any two Scale jobs is kept, and
 * every Scale value round-trips exactly (it is its own inverse).
 */
export const DEFAULT_PRIORITY = 50;
export const SCALE_DEFAULT_PRIORITY = 100;
const SCALE_MIRROR = DEFAULT_PRIORITY + SCALE_DEFAULT_PRIORITY;

export function priorityFromScale(scalePriority: number): number {
  return SCALE_MIRROR - scalePriority;
}

export function priorityToScale(priority: number): number {
  return SCALE_MIRROR - priority;
}

export const priorityFromDeadline = (deadlinePriority: number): number => deadlinePriority;
export const priorityToDeadline = (priority: number): number => priority;
