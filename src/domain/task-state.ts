import { StateMachine } from './state-machine.js';

export const TASK_STATES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'FAILED',
  'CANCELED',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export type TaskEvent =
  | 'dispatch' // a node acquired it
  | 'complete'
  | 'retry' // its execution ended without success and tries remain (or it was given back)
  | 'fail' // its execution failed and no tries remain
  | 'suspend'
  | 'resume'
  | 'pend'
  | 'release'
  | 'requeue'
  | 'resume-failed'
  | 'cancel'
  | 'mark-completed'
  | 'mark-failed';

export const taskStateMachine = new StateMachine<TaskState, TaskEvent>('task', TASK_STATES, [
  { event: 'dispatch', from: ['QUEUED'], to: 'RUNNING' },
  { event: 'complete', from: ['RUNNING'], to: 'COMPLETED' },
  { event: 'retry', from: ['RUNNING'], to: 'QUEUED' },
  { event: 'fail', from: ['RUNNING'], to: 'FAILED' },
  { event: 'suspend', from: ['PENDING', 'QUEUED', 'RUNNING'], to: 'SUSPENDED' },
  { event: 'resume', from: ['SUSPENDED'], to: 'QUEUED' },
  { event: 'pend', from: ['QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED'], to: 'PENDING' },
  { event: 'release', from: ['PENDING'], to: 'QUEUED' },
  {
    event: 'requeue',
    from: ['PENDING', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'],
    to: 'QUEUED',
  },
  { event: 'resume-failed', from: ['FAILED'], to: 'QUEUED' },
  { event: 'cancel', from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED'], to: 'CANCELED' },
  {
    event: 'mark-completed',
    from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'FAILED', 'CANCELED'],
    to: 'COMPLETED',
  },
  { event: 'mark-failed', from: ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED'], to: 'FAILED' },
]);
