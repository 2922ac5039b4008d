/** Milliseconds since the epoch. Injected so tests move time instead of sleeping. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock tests set by hand. */
export class ManualClock {
  constructor(public now = Date.UTC(2026, 0, 1)) {}
  readonly read: Clock = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
