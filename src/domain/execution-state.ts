import { StateMachine } from './state-machine.js';

export const EXECUTION_STATES = [
  'ACQUIRED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'RELEASED',
] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

/** An execution in one of these states holds a lease on its task. */
export const LIVE_EXECUTION_STATES: readonly ExecutionState[] = ['ACQUIRED', 'RUNNING'];

export type ExecutionEvent =
  | 'start'
  | 'complete'
  | 'fail' // the node reported an error, or it timed out
  | 'lose' // its lease expired
  | 'release' // the node gave it back before starting
  | 'stop'; // the server withdrew it (cancel, suspend, requeue, abort)

export const executionStateMachine = new StateMachine<ExecutionState, ExecutionEvent>(
  'execution',
  EXECUTION_STATES,
  [
    { event: 'start', from: ['ACQUIRED'], to: 'RUNNING' },
    { event: 'complete', from: ['RUNNING'], to: 'COMPLETED' },
    // A command that cannot even start fails straight from ACQUIRED.
    { event: 'fail', from: ['ACQUIRED', 'RUNNING'], to: 'FAILED' },
    { event: 'lose', from: ['ACQUIRED', 'RUNNING'], to: 'FAILED' },
    { event: 'release', from: ['ACQUIRED'], to: 'RELEASED' },
    { event: 'stop', from: ['ACQUIRED', 'RUNNING'], to: 'CANCELED' },
  ],
);
