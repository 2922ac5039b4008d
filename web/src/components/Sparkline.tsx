/**
 * A small line of percentages (0–100), oldest first; gaps (null) break the line. The label
 * gives the newest figure, for screen readers and for the tooltip.
 */
export function Sparkline({
  values,
  label,
  width = 90,
  height = 22,
}: {
  values: Array<number | null>;
  label: string;
  width?: number;
  height?: number;
}) {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const segments: string[][] = [[]];
  values.forEach((v, i) => {
    if (v === null) {
      if (segments[segments.length - 1]!.length) segments.push([]);
      return;
    }
    const y = height - 1 - (Math.min(100, Math.max(0, v)) / 100) * (height - 2);
    segments[segments.length - 1]!.push(`${(i * step).toFixed(1)},${y.toFixed(1)}`);
  });
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      role="img"
      aria-label={label}
      data-points={values.filter((v) => v !== null).length}
    >
      <title>{label}</title>
      {segments
        .filter((s) => s.length > 0)
        .map((s, i) =>
          s.length === 1 ? (
            <circle key={i} cx={s[0]!.split(',')[0]} cy={s[0]!.split(',')[1]} r={1.5} />
          ) : (
            <polyline key={i} points={s.join(' ')} fill="none" />
          ),
        )}
    </svg>
  );
}
