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

abstract class Bounded<S> {
  protected readonly series = new Map<string, { labels: Labels; value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly maxSeries: number,
  ) {}

  protected abstract fresh(): S;

  protected slot(labels: Labels): S {
    let key = text(labels);
    let entry = this.series.get(key);
    if (!entry && this.series.size >= this.maxSeries) {
      const other = Object.fromEntries(this.labelNames.map((n) => [n, OTHER]));
      key = text(other);
      entry = this.series.get(key);
      labels = other;
    }
    if (!entry) {
      entry = { labels, value: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  protected sorted() {
    return [...this.series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, e]) => e);
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
    this.bounds.forEach((le, i) => {
      if (value <= le) s.buckets[i]!++;
    });
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
