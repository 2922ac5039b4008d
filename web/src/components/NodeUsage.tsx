import { api } from '../api/endpoints';
import type { NodeTelemetry, TelemetryPoint } from '../api/types';
import { formatBytes } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { Sparkline } from './Sparkline';

/** Ten minutes of 10 s means: enough to see a node work, small enough for a page of nodes. */
const WINDOW_MS = 10 * 60_000;
const POINTS = 60;

type Point = TelemetryPoint;

const memPercent = (p: Point) =>
  p.memUsedBytes !== null && p.memTotalBytes ? (100 * p.memUsedBytes) / p.memTotalBytes : null;

const percent = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${Math.round(v)}%`;

function lastOf(values: Array<number | null>): number | null {
  return [...values].reverse().find((v) => v !== null) ?? null;
}

function Row({
  name,
  long = name,
  kind,
  values,
  figure,
  title,
}: {
  name: string;
  long?: string;
  kind: string;
  values: Array<number | null>;
  figure: string;
  title?: string;
}) {
  return (
    <span className="usage-row" data-usage={kind} title={title}>
      <span className="usage-name">{name}</span>
      <Sparkline values={values} label={`${long} ${figure} now`} />
      <span className="usage-figure">{figure}</span>
    </span>
  );
}

/**
 * A node's use in one cell: each line a sparkline of the last minutes (GET
 * /nodes/{id}/telemetry) and the figure the node last reported (its heartbeat). GPU lines
 * appear only for a node that has GPUs. `tick` reloads the history; the page moves it every
 * half minute.
 */
export function NodeUsage({
  nodeId,
  tick,
  latest,
  gpus,
}: {
  nodeId: number;
  tick: number;
  latest: NodeTelemetry | null | undefined;
  gpus: number;
}) {
  const history = useLoad(
    () => api.telemetry(nodeId, new Date(Date.now() - WINDOW_MS).toISOString(), POINTS),
    [nodeId, tick],
  );
  const points: Point[] = history.data?.items ?? [];
  if (history.data && points.length === 0 && !latest) {
    return <span className="muted">no telemetry</span>;
  }
  const cpu = points.map((p) => p.cpuPercent);
  const mem = points.map(memPercent);
  const gpu = points.map((p) => p.gpuPercent ?? null);
  const memFigure =
    latest?.memUsedBytes !== undefined && latest.memTotalBytes
      ? `${formatBytes(latest.memUsedBytes)} / ${formatBytes(latest.memTotalBytes)}`
      : undefined;
  const reported = latest?.gpus ?? [];
  const showGpu = gpus > 0 || reported.length > 0;
  return (
    <div className="usage">
      <Row name="CPU" kind="cpu" values={cpu} figure={percent(latest?.cpuPercent ?? lastOf(cpu))} />
      <Row
        name="Mem"
        long="Memory"
        kind="mem"
        values={mem}
        figure={percent(
          latest?.memUsedBytes !== undefined && latest.memTotalBytes
            ? (100 * latest.memUsedBytes) / latest.memTotalBytes
            : lastOf(mem),
        )}
        {...(memFigure ? { title: memFigure } : {})}
      />
      {showGpu && (
        <Row
          name="GPU"
          kind="gpu"
          values={gpu}
          figure={
            reported.some((g) => g.utilizationPercent !== undefined)
              ? reported.map((g) => percent(g.utilizationPercent)).join(' ')
              : percent(lastOf(gpu))
          }
          title={
            reported.length > 1
              ? `Mean of ${reported.length} GPUs over time; now ${reported
                  .map((g) => `GPU ${g.index} ${percent(g.utilizationPercent)}`)
                  .join(', ')}`
              : 'GPU use'
          }
        />
      )}
    </div>
  );
}
