/** Why an execution failed, as Scale classifies it; every face shows the same category. */
export type ErrorCategory = 'SYSTEM' | 'DATA' | 'ALGORITHM';

export interface BuiltinError {
  name: string;
  title: string;
  description: string;
  category: ErrorCategory;
  shouldBeRetried: boolean;
}

const system = (name: string, title: string, description: string, retried = true) =>
  ({ name, title, description, category: 'SYSTEM', shouldBeRetried: retried }) as const;
const algorithm = (name: string, title: string, description: string) =>
  ({ name, title, description, category: 'ALGORITHM', shouldBeRetried: false }) as const;

/** The built-in errors, after Scale's basic_errors fixture, seeded by the first migration. */
export const BUILTIN_ERRORS: readonly BuiltinError[] = [
  system('unknown', 'Unknown Error', 'The cause of this failure is unknown.'),
  system('database', 'Database Error', 'The server could not reach its database.'),
  system('database-operation', 'Database Operation Error', 'A database operation failed.'),
  system('filesystem-io', 'Filesystem I/O Error', 'Reading or writing a file failed.'),
  system('task-launch', 'Task Launch Error', 'The command could not be started on the node.'),
  system('node-lost', 'Node Lost', 'The node stopped reporting and its lease expired.'),
  system('resource-starvation', 'Resource Starvation', 'The node ran out of a resource.'),
  system('launch-timeout', 'Launch Timeout', 'The task did not start in time.'),
  system('system-timeout', 'System Timeout', 'A system task ran past its time limit.'),
  system('missing-setting', 'Missing Setting', 'A required setting has no value.', false),
  system('missing-mount', 'Missing Mount', 'A required mount has no value.', false),
  algorithm('timeout', 'Timeout', 'The task ran past its time limit and was killed.'),
  algorithm('algorithm-unknown', 'Algorithm Error', 'The command exited with a non-zero code.'),
  algorithm('invalid-results-manifest', 'Invalid Results Manifest', 'The results are invalid.'),
  algorithm('missing-required-output', 'Missing Required Output', 'A required output is missing.'),
  algorithm('unexpected-multiple-outputs', 'Unexpected Multiple Outputs', 'Too many outputs.'),
];

/**
 * Errors added after the first migration, each seeded by the migration named: a finished
 * task whose declared outputs are missing or empty (0036), a DATA error retried as a bad
 * frame.
 */
export const OUTPUT_MISSING_ERROR: BuiltinError = {
  name: 'output-missing',
  title: 'Output Missing',
  description: 'A declared output of the task is missing or empty.',
  category: 'DATA',
  shouldBeRetried: true,
};
