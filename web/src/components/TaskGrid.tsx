import { useEffect, useRef, useState } from 'react';
import type { Task } from '../api/types';

/** Colours by state; the same in the CSS badges. */
export const STATE_COLOURS: Record<string, string> = {
  PENDING: '#a8a29e',
  QUEUED: '#93c5fd',
  RUNNING: '#2563eb',
  SUSPENDED: '#f59e0b',
  COMPLETED: '#16a34a',
  FAILED: '#dc2626',
  CANCELED: '#57534e',
};

/** A task's frames, or an OpenJD task's parameter values, its state and tries. */
export function describeTask(task: Task): string {
  const values = task.parameters
    ? Object.entries(task.parameters)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';
  const what = values || `frames ${task.frames}`;
  const progress = task.state === 'RUNNING' ? ` ${Math.round(task.progress)}%` : '';
  const tries = `${task.tries} ${task.tries === 1 ? 'try' : 'tries'}`;
  return `Task ${task.index} · ${what} · ${task.state.toLowerCase()}${progress} · ${tries}`;
}

function cellSize(count: number): number {
  if (count > 20_000) return 5;
  if (count > 5_000) return 8;
  if (count > 500) return 12;
  return 18;
}

/**
 * Every task as one square coloured by its state, drawn on a canvas: ten thousand divs would
 * make the page crawl, ten thousand rectangles on a canvas draw in a few milliseconds.
 */
export function TaskGrid({
  tasks,
  selected,
  onSelect,
}: {
  tasks: Task[];
  selected: number | undefined;
  onSelect: (task: Task) => void;
}) {
  const wrapper = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(600);
  const [hover, setHover] = useState<Task>();
  const size = cellSize(tasks.length);
  const gap = size > 8 ? 2 : 1;
  const step = size + gap;
  const columns = Math.max(1, Math.floor((width + gap) / step));
  const rows = Math.ceil(tasks.length / columns);
  const height = Math.max(step, rows * step);

  useEffect(() => {
    const element = wrapper.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    setWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    const context = c?.getContext('2d');
    if (!c || !context) return;
    const ratio = window.devicePixelRatio || 1;
    c.width = width * ratio;
    c.height = height * ratio;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    tasks.forEach((task, i) => {
      const x = (i % columns) * step;
      const y = Math.floor(i / columns) * step;
      context.fillStyle = STATE_COLOURS[task.state] ?? '#999';
      context.fillRect(x, y, size, size);
      if (task.state === 'RUNNING' && task.progress > 0 && size >= 12) {
        context.fillStyle = 'rgba(255,255,255,0.45)';
        context.fillRect(x, y + size - 3, (size * task.progress) / 100, 3);
      }
      if (task.id === selected) {
        context.strokeStyle = '#111827';
        context.lineWidth = 2;
        context.strokeRect(x + 1, y + 1, size - 2, size - 2);
      }
    });
  }, [tasks, width, height, columns, step, size, selected]);

  const taskAt = (event: React.MouseEvent<HTMLCanvasElement>): Task | undefined => {
    const rect = event.currentTarget.getBoundingClientRect();
    const column = Math.floor((event.clientX - rect.left) / step);
    const row = Math.floor((event.clientY - rect.top) / step);
    if (column >= columns) return undefined;
    return tasks[row * columns + column];
  };

  return (
    <div className="task-grid" ref={wrapper}>
      <canvas
        ref={canvas}
        style={{ width, height }}
        aria-label={`${tasks.length} tasks`}
        title={hover ? describeTask(hover) : undefined}
        onMouseMove={(e) => setHover(taskAt(e))}
        onMouseLeave={() => setHover(undefined)}
        onClick={(e) => {
          const task = taskAt(e);
          if (task) onSelect(task);
        }}
      />
      <div className="task-grid-status">
        {hover ? describeTask(hover) : 'Point at a task to see it; click to open it.'}
      </div>
    </div>
  );
}
