import { api } from '../api/endpoints';
import type { TelemetryPoint } from '../api/types';
import { useLoad } from '../lib/hooks';
import { Sparkline } from './Sparkline';

/** Ten minutes of 10 s means: enough to see a node work, small enough for a page of nodes. */
const WINDOW_MS = 10 * 60_000;
const POINTS = 60;

const memPercent = (p: TelemetryPoint) =>
  p.memUsedBytes !== null && p.memTotalBytes ? (100 * p.memUsedBytes) / p.memTotalBytes : null;

function figure(values: Array<number | null>): string {
  const last = [...values].reverse().find((v) => v !== null);
  return last === undefined || last === null ? '—' : `${Math.round(last)}%`;
}

/**
 * A node's CPU and memory use over the last minutes, from the telemetry the server keeps
 * (GET /nodes/{id}/telemetry). `tick` reloads it; the page moves it every half minute.
 */
export function NodeUsage({ nodeId, tick }: { nodeId: number; tick: number }) {
  const history = useLoad(
    () => api.telemetry(nodeId, new Date(Date.now() - WINDOW_MS).toISOString(), POINTS),
    [nodeId, tick],
  );
  const points = history.data?.items ?? [];
  if (history.data && points.length === 0) {
    return <span className="muted">no telemetry</span>;
  }
  const cpu = points.map((p) => p.cpuPercent);
  const mem = points.map(memPercent);
  return (
    <div className="usage">
      <span className="usage-row" data-usage="cpu">
        <span className="usage-name">CPU</span>
        <Sparkline values={cpu} label={`CPU ${figure(cpu)} now`} />
        <span className="usage-figure">{figure(cpu)}</span>
      </span>
      <span className="usage-row" data-usage="mem">
        <span className="usage-name">Mem</span>
        <Sparkline values={mem} label={`Memory ${figure(mem)} now`} />
        <span className="usage-figure">{figure(mem)}</span>
      </span>
    </div>
  );
}
