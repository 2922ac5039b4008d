import { useEffect, useRef, useState } from 'react';
import { authHeaders } from './client';
import type { DroverEvent } from './types';

/*
 * The server's event stream (GET /api/v1/events, text/event-stream), read with fetch()
 * rather than EventSource because EventSource cannot send the Authorization header.
 * Reconnects with a growing delay; `connected` drives the "live" badge.
 */

export type Topic = 'job' | 'task' | 'execution' | 'log' | 'node' | 'job-type' | 'audit';

function parse(block: string): DroverEvent | undefined {
  const data = block
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (!data) return undefined;
  try {
    return JSON.parse(data) as DroverEvent;
  } catch {
    return undefined;
  }
}

async function stream(
  url: string,
  signal: AbortSignal,
  onOpen: () => void,
  onEvent: (event: DroverEvent) => void,
): Promise<void> {
  const response = await fetch(url, {
    headers: { ...authHeaders(), accept: 'text/event-stream' },
    signal,
  });
  if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) onEvent(event);
    }
  }
}

/** Subscribes for as long as the component is mounted; returns whether the stream is up. */
export function useEvents(
  topics: Topic[],
  onEvent: (event: DroverEvent) => void,
  jobId?: number,
): boolean {
  const [connected, setConnected] = useState(false);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = `${topics.join(',')}|${jobId ?? ''}`;

  useEffect(() => {
    const abort = new AbortController();
    const params = new URLSearchParams();
    for (const topic of key.split('|')[0]!.split(',')) params.append('topic', topic);
    if (jobId !== undefined) params.set('job', String(jobId));
    const url = `/api/v1/events?${params.toString()}`;
    let delay = 1000;
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          await stream(
            url,
            abort.signal,
            () => {
              setConnected(true);
              delay = 1000;
            },
            (event) => handler.current(event),
          );
        } catch {
          // The server restarted or the network dropped; try again below.
        }
        setConnected(false);
        if (abort.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 15_000);
      }
    })();
    return () => abort.abort();
  }, [key, jobId]);

  return connected;
}
