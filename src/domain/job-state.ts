import { StateMachine } from './state-machine.js';

export const JOB_STATES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'FAILED',
  'CANCELED',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINAL_JOB_STATES: readonly JobState[] = ['COMPLETED', 'FAILED', 'CANCELED'];

export type JobEvent =
  | 'release' // dependencies met, schedule reached, or released by hand
  | 'pend'
  | 'start' // its first task was dispatched
  | 'finish' // its last task completed
  | 'fail' // a task ran out of tries
  | 'suspend'
  | 'resume'
  | 'resume-to-pending' // resumed while its dependencies are still unmet
  | 'resume-failed'
  | 'requeue'
  | 'cancel'
  | 'mark-completed'
  | 'mark-failed';

const ACTIVE: JobState[] = ['QUEUED', 'RUNNING'];

export const jobStateMachine = new StateMachine<JobState, JobEvent>('job', JOB_STATES, [
  { event: 'release', from: ['PENDING'], to: 'QUEUED' },
  { event: 'pend', from: ['QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'], to: 'PENDING' },
  { event: 'start', from: ['QUEUED'], to: 'RUNNING' },
  // A suspended job whose last running tasks end still ends: suspend-queued lets them run.
  { event: 'finish', from: [...ACTIVE, 'SUSPENDED'], to: 'COMPLETED' },
  { event: 'fail', from: [...ACTIVE, 'SUSPENDED'], to: 'FAILED' },
  { event: 'suspend', from: ['PENDING', 'QUEUED', 'RUNNING'], to: 'SUSPENDED' },
  { event: 'resume', from: ['SUSPENDED'], to: 'QUEUED' },
  { event: 'resume-to-pending', from: ['SUSPENDED'], to: 'PENDING' },
  { event: 'resume-failed', from: ['FAILED'], to: 'QUEUED' },
  {
    event: 'requeue',
    from: ['QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'],
    to: 'QUEUED',
  },
  {
    event: 'cancel',
    from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'],
    to: 'CANCELED',
  },
  {
    event: 'mark-completed',
    from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'],
    to: 'COMPLETED',
  },
  { event: 'mark-failed', from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED'], to: 'FAILED' },
]);

/** States in which a job's tasks may be dispatched. */
export const DISPATCHABLE_JOB_STATES: readonly JobState[] = ACTIVE;
