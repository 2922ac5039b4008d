/** The p-th percentile of a list of figures (nearest rank), NaN when it is empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** "12.3 (target ≤ 10) MISSED", for a figure printed beside its target. */
export function againstTarget(value: number, target: number, unit = 'ms', digits = 1): string {
  return `${value.toFixed(digits)} ${unit} (target ≤ ${target}) ${value <= target ? 'met' : 'MISSED'}`;
}
