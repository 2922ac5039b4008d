import { DroverError } from './errors.js';

/** One legal move: `event` takes any state in `from` to `to`. */
export interface Transition<S extends string, E extends string> {
  readonly event: E;
  readonly from: readonly S[];
  readonly to: S;
}

/**
 * A state machine defined by one table of transitions. The table is the single source of
 * truth: the engine asks it before every change and docs/state-machines.md is drawn from it.
 */
export class StateMachine<S extends string, E extends string> {
  readonly #moves = new Map<string, S>();

  constructor(
    readonly entity: string,
    readonly states: readonly S[],
    readonly transitions: readonly Transition<S, E>[],
  ) {
    for (const t of transitions) {
      for (const from of t.from) {
        const key = `${from}:${t.event}`;
        if (this.#moves.has(key)) throw new Error(`${entity}: ${key} is defined twice`);
        this.#moves.set(key, t.to);
      }
    }
  }

  /** The state `event` leads to from `from`, or undefined when the move is illegal. */
  next(from: S, event: E): S | undefined {
    return this.#moves.get(`${from}:${event}`);
  }

  can(from: S, event: E): boolean {
    return this.#moves.has(`${from}:${event}`);
  }

  /** Like next(), but an illegal move is a 409 the caller can read. */
  apply(from: S, event: E, id?: number | string): S {
    const to = this.next(from, event);
    if (to === undefined) {
      const what = id === undefined ? this.entity : `${this.entity} ${id}`;
      throw new DroverError('ILLEGAL_TRANSITION', `cannot ${event} ${what}: it is ${from}`, {
        entity: this.entity,
        state: from,
        event,
      });
    }
    return to;
  }

  /** States from which `event` is legal (used to select rows an action applies to). */
  sources(event: E): S[] {
    return this.states.filter((s) => this.can(s, event));
  }
}

/** The machine as a Mermaid state diagram: docs/state-machines.md is generated from this. */
export function toMermaid<S extends string, E extends string>(machine: StateMachine<S, E>): string {
  const edges = new Map<string, string[]>();
  for (const t of machine.transitions) {
    for (const from of t.from) {
      const key = `${from} --> ${t.to}`;
      edges.set(key, [...(edges.get(key) ?? []), t.event]);
    }
  }
  const lines = ['stateDiagram-v2'];
  for (const [edge, events] of edges) lines.push(`    ${edge}: ${events.join(', ')}`);
  return lines.join('\n');
}
