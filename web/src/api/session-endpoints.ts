import type { paths } from '../../../src/client/openapi-types';
import { call, drover } from './client';

/* A job's OpenJD sessions and a session's log (docs/openjd.md#session-records). */

type Ok<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': infer B } } } };
}
  ? B
  : never;

export type SessionPage = Ok<'/api/v1/jobs/{id}/sessions'>;
export type Session = SessionPage['items'][number];
export type SessionLogPage = Ok<'/api/v1/sessions/{id}/log'>;

export const sessionApi = {
  sessions: (jobId: number, limit = 100) =>
    call(
      drover.get('/api/v1/jobs/{id}/sessions', {
        params: { path: { id: jobId }, query: { limit } },
      }),
    ),
  log: (sessionId: number, from: number, limit = 2000) =>
    call(
      drover.get('/api/v1/sessions/{id}/log', {
        params: { path: { id: sessionId }, query: { from, limit } },
      }),
    ),
};
