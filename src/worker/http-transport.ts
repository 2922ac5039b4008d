import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/*
 * One HTTP exchange of the worker's client over node:http(s), for JSON and raw bodies
 * alike. Not fetch: a request here may be pinned to one of the addresses a server's name
 * resolves to (server-addresses.ts) while its Host header and TLS server name stay the
 * name, which node:http does with an agent whose lookup answers that address; and a raw
 * body is piped with backpressure (fetch, undici in Node 20, read a file stream ahead of
 * the socket and held about the whole file in memory however it was given).
 */

export interface RawBody {
  stream: Readable;
  length: number;
}

export interface Answer {
  status: number;
  statusText: string;
  text: string;
}

/** As undici's: an address that takes no connection must not hold a call for minutes. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A keep-alive agent for one server, pinned to `address` when given. One agent per pinned
 * address: agents pool sockets by host and port, so a shared one would hand a request for
 * the second address a socket still open to the first.
 */
export function agentFor(url: string, address?: { address: string; family: number }): http.Agent {
  const Agent = url.startsWith('https:') ? https.Agent : http.Agent;
  if (!address) return new Agent({ keepAlive: true });
  const lookup: LookupFunction = (_hostname, options, callback) => {
    // Node asks for every address (`all`) when it may try several (autoSelectFamily).
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        address,
      ]);
    } else callback(null, address.address, address.family);
  };
  return new Agent({ keepAlive: true, lookup });
}

export function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | RawBody | undefined,
  agent: http.Agent,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  const raw = typeof body === 'object' ? body : undefined;
  const request = (url.startsWith('https:') ? https : http).request(url, {
    method,
    agent,
    headers: {
      ...headers,
      ...(raw
        ? { 'content-type': 'application/octet-stream', 'content-length': String(raw.length) }
        : {}),
      ...(typeof body === 'string' ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
    },
    ...(signal ? { signal } : {}),
  });
  // A file that changed size while it was sent fails the attempt rather than hanging it.
  if (raw) (request as { strictContentLength?: boolean }).strictContentLength = true;
  request.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => {
      const error = new Error(`connect timed out after ${CONNECT_TIMEOUT_MS / 1000} s`);
      request.destroy(Object.assign(error, { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS);
    const clear = (): void => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let ended = false;
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        ended = true;
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      // A connection cut in the middle of the answer is a failed attempt, not a short one.
      res.on('close', () => {
        if (!ended) reject(new Error('the connection closed before the answer ended'));
      });
    });
    request.on('error', reject);
  });
  if (!raw) {
    request.end(body);
    return answer;
  }
  // The server may answer (a 409, a 413) before it has read the whole file and close the
  // connection; its answer is what counts then, not the write that failed.
  const sent = pipeline(raw.stream, request).catch(() => undefined);
  return Promise.all([answer, sent])
    .then(([a]) => a)
    .finally(() => raw.stream.destroy());
}
