import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DroverError } from '../../src/domain/errors.js';
import {
  EXECUTION_STATES,
  executionStateMachine,
  type ExecutionEvent,
  type ExecutionState,
} from '../../src/domain/execution-state.js';
import {
  JOB_STATES,
  jobStateMachine,
  type JobEvent,
  type JobState,
} from '../../src/domain/job-state.js';
import type { StateMachine } from '../../src/domain/state-machine.js';
import {
  TASK_STATES,
  taskStateMachine,
  type TaskEvent,
  type TaskState,
} from '../../src/domain/task-state.js';

/*
 * The expected tables, written out by hand: every legal (state, event) pair and its target.
 * Any pair not listed must be illegal. A change to a table in src/domain must be made here
 * too, deliberately.
 */

type Table<S extends string, E extends string> = Record<E, Partial<Record<S, S>>>;

const EXPECTED_JOB: Table<JobState, JobEvent> = {
  release: { PENDING: 'QUEUED' },
  pend: { QUEUED: 'PENDING', RUNNING: 'PENDING', SUSPENDED: 'PENDING', FAILED: 'PENDING' },
  start: { QUEUED: 'RUNNING' },
  finish: { QUEUED: 'COMPLETED', RUNNING: 'COMPLETED', SUSPENDED: 'COMPLETED' },
  fail: { QUEUED: 'FAILED', RUNNING: 'FAILED', SUSPENDED: 'FAILED' },
  suspend: { PENDING: 'SUSPENDED', QUEUED: 'SUSPENDED', RUNNING: 'SUSPENDED' },
  resume: { SUSPENDED: 'QUEUED' },
  'resume-to-pending': { SUSPENDED: 'PENDING' },
  'resume-failed': { FAILED: 'QUEUED' },
  requeue: {
    QUEUED: 'QUEUED',
    RUNNING: 'QUEUED',
    SUSPENDED: 'QUEUED',
    COMPLETED: 'QUEUED',
    FAILED: 'QUEUED',
    CANCELED: 'QUEUED',
  },
  cancel: {
    PENDING: 'CANCELED',
    QUEUED: 'CANCELED',
    RUNNING: 'CANCELED',
    SUSPENDED: 'CANCELED',
    FAILED: 'CANCELED',
  },
  'mark-completed': {
    PENDING: 'COMPLETED',
    QUEUED: 'COMPLETED',
    RUNNING: 'COMPLETED',
    SUSPENDED: 'COMPLETED',
    FAILED: 'COMPLETED',
  },
  'mark-failed': { PENDING: 'FAILED', QUEUED: 'FAILED', RUNNING: 'FAILED', SUSPENDED: 'FAILED' },
};

const EXPECTED_TASK: Table<TaskState, TaskEvent> = {
  dispatch: { QUEUED: 'RUNNING' },
  complete: { RUNNING: 'COMPLETED' },
  retry: { RUNNING: 'QUEUED' },
  fail: { RUNNING: 'FAILED' },
  suspend: { PENDING: 'SUSPENDED', QUEUED: 'SUSPENDED', RUNNING: 'SUSPENDED' },
  resume: { SUSPENDED: 'QUEUED' },
  pend: { QUEUED: 'PENDING', RUNNING: 'PENDING', SUSPENDED: 'PENDING', FAILED: 'PENDING' },
  release: { PENDING: 'QUEUED' },
  requeue: {
    PENDING: 'QUEUED',
    RUNNING: 'QUEUED',
    SUSPENDED: 'QUEUED',
    COMPLETED: 'QUEUED',
    FAILED: 'QUEUED',
    CANCELED: 'QUEUED',
  },
  'resume-failed': { FAILED: 'QUEUED' },
  cancel: { PENDING: 'CANCELED', QUEUED: 'CANCELED', RUNNING: 'CANCELED', SUSPENDED: 'CANCELED' },
  'mark-completed': {
    PENDING: 'COMPLETED',
    QUEUED: 'COMPLETED',
    RUNNING: 'COMPLETED',
    SUSPENDED: 'COMPLETED',
    FAILED: 'COMPLETED',
    CANCELED: 'COMPLETED',
  },
  'mark-failed': { PENDING: 'FAILED', QUEUED: 'FAILED', RUNNING: 'FAILED', SUSPENDED: 'FAILED' },
};

const EXPECTED_EXECUTION: Table<ExecutionState, ExecutionEvent> = {
  start: { ACQUIRED: 'RUNNING' },
  complete: { RUNNING: 'COMPLETED' },
  fail: { ACQUIRED: 'FAILED', RUNNING: 'FAILED' },
  lose: { ACQUIRED: 'FAILED', RUNNING: 'FAILED' },
  release: { ACQUIRED: 'RELEASED' },
  stop: { ACQUIRED: 'CANCELED', RUNNING: 'CANCELED' },
};

function checkMachine<S extends string, E extends string>(
  title: string,
  machine: StateMachine<S, E>,
  states: readonly S[],
  expectedStates: readonly S[],
  expected: Table<S, E>,
): void {
  const events = Object.keys(expected) as E[];

  describe(`${title} state machine`, () => {
    it('has exactly the expected states', () => {
      assert.deepEqual([...machine.states], [...expectedStates]);
      assert.deepEqual([...states], [...expectedStates]);
    });

    it('defines no event beyond the expected table', () => {
      const defined = [...new Set(machine.transitions.map((t) => t.event))].sort();
      assert.deepEqual(defined, [...events].sort());
    });

    for (const event of events) {
      for (const state of expectedStates) {
        const target = expected[event][state];
        if (target !== undefined) {
          it(`${state} --${event}--> ${target}`, () => {
            assert.equal(machine.next(state, event), target);
            assert.equal(machine.can(state, event), true);
            assert.equal(machine.apply(state, event), target);
            assert.equal(machine.apply(state, event, 7), target);
          });
        } else {
          it(`${state} --${event}--> illegal`, () => {
            assert.equal(machine.next(state, event), undefined);
            assert.equal(machine.can(state, event), false);
            for (const id of [undefined, 42]) {
              assert.throws(
                () => machine.apply(state, event, id),
                (error: unknown) => {
                  assert.ok(error instanceof DroverError, 'a DroverError');
                  assert.equal(error.code, 'ILLEGAL_TRANSITION');
                  assert.equal(error.status, 409);
                  assert.ok(
                    error.message.includes(event),
                    `message names the event: ${error.message}`,
                  );
                  assert.ok(
                    error.message.includes(state),
                    `message names the state: ${error.message}`,
                  );
                  assert.ok(
                    error.message.includes(title),
                    `message names the entity: ${error.message}`,
                  );
                  if (id !== undefined) assert.ok(error.message.includes(String(id)));
                  assert.deepEqual(error.details, { entity: title, state, event });
                  return true;
                },
              );
            }
          });
        }
      }
    }

    it('sources(event) lists every state the event is legal from, in state order', () => {
      for (const event of events) {
        const want = expectedStates.filter((s) => expected[event][s] !== undefined);
        assert.deepEqual(machine.sources(event), want, `sources(${event})`);
      }
    });

    it('sources(event) of an unknown event is empty', () => {
      assert.deepEqual(machine.sources('no-such-event' as E), []);
    });
  });
}

checkMachine(
  'job',
  jobStateMachine,
  JOB_STATES,
  ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'],
  EXPECTED_JOB,
);

checkMachine(
  'task',
  taskStateMachine,
  TASK_STATES,
  ['PENDING', 'QUEUED', 'RUNNING', 'SUSPENDED', 'COMPLETED', 'FAILED', 'CANCELED'],
  EXPECTED_TASK,
);

checkMachine(
  'execution',
  executionStateMachine,
  EXECUTION_STATES,
  ['ACQUIRED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'RELEASED'],
  EXPECTED_EXECUTION,
);

describe('StateMachine construction', () => {
  it('refuses a table that defines one (state, event) pair twice', async () => {
    const { StateMachine } = await import('../../src/domain/state-machine.js');
    assert.throws(
      () =>
        new StateMachine<'A' | 'B', 'go'>(
          'thing',
          ['A', 'B'],
          [
            { event: 'go', from: ['A'], to: 'B' },
            { event: 'go', from: ['A'], to: 'A' },
          ],
        ),
      /A:go is defined twice/,
    );
  });
});
