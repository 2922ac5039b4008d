import type { Throughput } from '../api/types';

const WIDTH = 720;
const HEIGHT = 160;
const PAD = { left: 36, right: 8, top: 10, bottom: 22 };

/** Tasks completed per minute as bars, drawn by hand in SVG. */
export function ThroughputChart({ data }: { data: Throughput }) {
  const minutes = data.minutes;
  const max = Math.max(1, ...minutes.map((m) => m.completed));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const bar = innerW / Math.max(minutes.length, 1);
  const y = (n: number) => PAD.top + innerH - (innerH * n) / max;
  const label = (iso: string) =>
    new Date(iso).toLocaleTimeString(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
  const total = minutes.reduce((sum, m) => sum + m.completed, 0);
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`${total} tasks completed in the last ${minutes.length} minutes`}
    >
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line
            x1={PAD.left}
            x2={WIDTH - PAD.right}
            y1={y(max * f)}
            y2={y(max * f)}
            className="grid"
          />
          <text x={PAD.left - 6} y={y(max * f) + 4} textAnchor="end">
            {Math.round(max * f)}
          </text>
        </g>
      ))}
      {minutes.map((m, i) => (
        <rect
          key={m.start}
          x={PAD.left + i * bar + 1}
          y={y(m.completed)}
          width={Math.max(bar - 2, 1)}
          height={PAD.top + innerH - y(m.completed)}
          className="bar"
        >
          <title>{`${label(m.start)}: ${m.completed} tasks`}</title>
        </rect>
      ))}
      {minutes
        .map((m, i) => ({ m, i }))
        .filter(({ i }) => i % 10 === 0 || i === minutes.length - 1)
        .map(({ m, i }) => (
          <text key={m.start} x={PAD.left + i * bar + bar / 2} y={HEIGHT - 6} textAnchor="middle">
            {label(m.start)}
          </text>
        ))}
    </svg>
  );
}
