import type { Job } from '../api/types';
import { STATE_COLOURS } from './TaskGrid';

export interface Step {
  job: Job;
  /** The ids of the step jobs this one waits for (its job dependencies among the steps). */
  dependsOn: number[];
}

const BOX_W = 168;
const BOX_H = 58;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 8;

/**
 * Each step's column is its dependency depth (the longest chain of steps before it), so
 * every arrow points right. Steps in a cycle, which the server refuses, would recurse
 * forever: the depth stops at the number of steps.
 */
export function layoutSteps(steps: Step[]): Map<number, { column: number; row: number }> {
  const byId = new Map(steps.map((s) => [s.job.id, s]));
  const depth = new Map<number, number>();
  const depthOf = (id: number, seen: number): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const step = byId.get(id);
    if (!step || seen > steps.length) return 0;
    const inSteps = step.dependsOn.filter((d) => byId.has(d));
    const d = inSteps.length ? 1 + Math.max(...inSteps.map((p) => depthOf(p, seen + 1))) : 0;
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const place = new Map<number, { column: number; row: number }>();
  for (const s of steps) {
    const column = depthOf(s.job.id, 0);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    place.set(s.job.id, { column, row });
  }
  return place;
}

const shorten = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** The steps of a multi-step job as boxes, left to right by dependency, with arrows. */
export function StepGraph({
  steps,
  selected,
  onSelect,
}: {
  steps: Step[];
  selected: number | undefined;
  onSelect: (step: Step) => void;
}) {
  const place = layoutSteps(steps);
  const columns = Math.max(1, ...[...place.values()].map((p) => p.column + 1));
  const rows = Math.max(1, ...[...place.values()].map((p) => p.row + 1));
  const width = PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X;
  const height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
  const x = (id: number) => PAD + (place.get(id)?.column ?? 0) * (BOX_W + GAP_X);
  const y = (id: number) => PAD + (place.get(id)?.row ?? 0) * (BOX_H + GAP_Y);

  return (
    <div className="step-graph">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="group"
        aria-label="Steps"
      >
        <defs>
          <marker
            id="step-arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" className="step-arrow-head" />
          </marker>
        </defs>
        {steps.flatMap((s) =>
          s.dependsOn
            .filter((d) => place.has(d))
            .map((d) => {
              const x1 = x(d) + BOX_W;
              const y1 = y(d) + BOX_H / 2;
              const x2 = x(s.job.id) - 2;
              const y2 = y(s.job.id) + BOX_H / 2;
              const mid = (x1 + x2) / 2;
              return (
                <path
                  key={`${d}-${s.job.id}`}
                  className="step-edge"
                  data-edge={`${d}-${s.job.id}`}
                  d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
                  markerEnd="url(#step-arrow)"
                />
              );
            }),
        )}
        {steps.map((s) => {
          const t = s.job.tasks;
          const name = s.job.childName ?? s.job.name;
          const done = t.total ? (t.completed / t.total) * (BOX_W - 20) : 0;
          const on = s.job.id === selected;
          return (
            <g
              key={s.job.id}
              className={`step-box${on ? ' on' : ''}`}
              data-step={name}
              data-state={s.job.state}
              transform={`translate(${x(s.job.id)} ${y(s.job.id)})`}
              role="button"
              tabIndex={0}
              aria-pressed={on}
              aria-label={`Step ${name}: ${s.job.state.toLowerCase()}, ${t.completed} of ${t.total} tasks done`}
              onClick={() => onSelect(s)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(s);
                }
              }}
            >
              <title>{`${name}: ${s.job.state.toLowerCase()}, ${t.completed}/${t.total} tasks done`}</title>
              <rect width={BOX_W} height={BOX_H} rx={6} className="step-rect" />
              <rect width={5} height={BOX_H} rx={2} fill={STATE_COLOURS[s.job.state] ?? '#999'} />
              <text x={14} y={19} className="step-name">
                {shorten(name, 20)}
              </text>
              <text x={14} y={35} className="step-meta">
                <tspan className="step-state">{s.job.state.toLowerCase()}</tspan>
                {' · '}
                <tspan className="step-count">
                  {t.completed}/{t.total}
                </tspan>
              </text>
              <rect x={10} y={44} width={BOX_W - 20} height={5} rx={2} className="step-track" />
              <rect x={10} y={44} width={done} height={5} rx={2} className="step-done" />
            </g>
          );
        })}
      </svg>
    </div>
  );
}
