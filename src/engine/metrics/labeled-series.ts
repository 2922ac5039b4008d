/*
 * Histograms and counters keyed by a few labels, with a cap on the label sets: past
 * `maxSeries` distinct sets, new ones are counted under `overflow` (every label "(other)"),
 * so a farm with ten thousand pools keeps a bounded /metrics. Values are Prometheus's
 * cumulative buckets; render() writes the text exposition format.
 */

export type Labels = Readonly<Record<string, string>>;

export const OTHER = '(other)';

/** Escapes a label value for the text format (backslash, quote, newline). */
export const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const text = (labels: Labels): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');

type Entry<S> = { labels: Labels; value: S };
/** A level of the series' index: one Map per label, in the order of `labelNames`. */
type Level<S> = Map<string, Level<S> | Entry<S>>;

abstract class Bounded<S> {
  /**
   * The series, indexed by their label values one label at a time. Every dispatch observes
   * its queue wait: keyed by the label text (Object.entries, three regular expressions per
   * value, a join), an observation took 0.69 µs, and the key building showed at 2.8% of the
   * server's profile in bench/peer.ts (batched protocol, SQLite); looked up value by value,
   * 0.05 µs. The text is written at render only.
   */
  readonly #index: Level<S> = new Map();
  #size = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly maxSeries: number,
  ) {}

  protected abstract fresh(): S;

  /**
   * The series of `labels`; past `maxSeries` label sets, the "(other)" one (which a set of
   * real "(other)" values shares, as it would share the text).
   */
  protected slot(labels: Labels, capped = true): S {
    const names = this.labelNames;
    let level = this.#index;
    for (let i = 0; i < names.length - 1; i++) {
      const value = labels[names[i]!] ?? '';
      let next = level.get(value) as Level<S> | undefined;
      if (!next) {
        if (capped && this.#size >= this.maxSeries) return this.#other();
        level.set(value, (next = new Map()));
      }
      level = next;
    }
    const last = labels[names[names.length - 1]!] ?? '';
    let entry = level.get(last) as Entry<S> | undefined;
    if (!entry) {
      if (capped && this.#size >= this.maxSeries) return this.#other();
      entry = {
        labels: Object.fromEntries(names.map((n) => [n, labels[n] ?? ''])),
        value: this.fresh(),
      };
      level.set(last, entry);
      this.#size++;
    }
    return entry.value;
  }

  #other(): S {
    return this.slot(Object.fromEntries(this.labelNames.map((n) => [n, OTHER])), false);
  }

  protected sorted(): Entry<S>[] {
    const all: Entry<S>[] = [];
    const walk = (level: Level<S>, depth: number) => {
      for (const next of level.values()) {
        if (depth === this.labelNames.length - 1) all.push(next as Entry<S>);
        else walk(next as Level<S>, depth + 1);
      }
    };
    walk(this.#index, 0);
    return all
      .map((e) => ({ key: text(e.labels), e }))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(({ e }) => e);
  }
}

export class BoundedCounter extends Bounded<{ n: number }> {
  protected fresh() {
    return { n: 0 };
  }

  inc(labels: Labels, by = 1): void {
    this.slot(labels).n += by;
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...this.sorted().map((e) => `${this.name}{${text(e.labels)}} ${e.value.n}`),
    ];
  }
}

export class BoundedHistogram extends Bounded<{ buckets: number[]; count: number; sum: number }> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    maxSeries: number,
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames, maxSeries);
  }

  protected fresh() {
    return { buckets: this.bounds.map(() => 0), count: 0, sum: 0 };
  }

  observe(labels: Labels, value: number): void {
    const s = this.slot(labels);
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) s.buckets[i]!++;
    s.count++;
    s.sum += value;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, value } of this.sorted()) {
      const l = text(labels);
      this.bounds.forEach((le, i) =>
        lines.push(`${this.name}_bucket{${l},le="${le}"} ${value.buckets[i]}`),
      );
      lines.push(`${this.name}_bucket{${l},le="+Inf"} ${value.count}`);
      lines.push(`${this.name}_sum{${l}} ${value.sum}`);
      lines.push(`${this.name}_count{${l}} ${value.count}`);
    }
    return lines;
  }
}
