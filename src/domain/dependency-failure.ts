/*
 * What a job waiting on dependencies does when one of them ends without completing (FAILED
 * or CANCELED):
 *
 * - CANCEL: the dependent is canceled too, and so in turn are the jobs waiting on it under
 *   the same policy. The default, as Deadline Cloud does with the steps after a failed one.
 * - WAIT: the dependent stays PENDING until the dependency is retried and completes
 *   (Deadline 10's default, and every job made before the policy existed).
 * - RUN: an ended dependency counts as met, completed or not (Deadline 10's
 *   ResumeOnFailedDependencies).
 */
export const DEPENDENCY_FAILURE_POLICIES = ['CANCEL', 'WAIT', 'RUN'] as const;
export type DependencyFailurePolicy = (typeof DEPENDENCY_FAILURE_POLICIES)[number];

export const DEFAULT_DEPENDENCY_FAILURE_POLICY: DependencyFailurePolicy = 'CANCEL';

/** Each policy in a few words, for waiting reasons and people choosing one. */
export const DEPENDENCY_FAILURE_TEXT: Record<DependencyFailurePolicy, string> = {
  CANCEL: 'cancel this job',
  WAIT: 'wait until it is retried and completes',
  RUN: 'run anyway',
};

export function isDependencyFailurePolicy(value: unknown): value is DependencyFailurePolicy {
  return (DEPENDENCY_FAILURE_POLICIES as readonly unknown[]).includes(value);
}

/** A stored value as a policy; anything unknown reads as WAIT, what Drover did before. */
export function dependencyFailurePolicyOf(value: unknown): DependencyFailurePolicy {
  return isDependencyFailurePolicy(value) ? value : 'WAIT';
}
