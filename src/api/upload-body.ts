import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../domain/errors.js';
import { tooLarge } from '../store/blob-staging.js';

/**
 * Leaves bodies of `contentType` unread: the route streams them to the blob store. Fastify
 * enforces no body limit on such a parser; uploadBody and the staging do.
 */
export function streamBodies(app: FastifyInstance, contentType: string): void {
  app.addContentTypeParser(contentType, (_request, payload, done) => done(null, payload));
}

/**
 * The request's body as a stream, refused at once (413) when its Content-Length is over
 * `limit`, before a byte is read; a body without a length is counted as it streams.
 */
export function uploadBody(request: FastifyRequest, limit: number): Readable {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const body = request.body as unknown;
  if (!(body instanceof Readable)) {
    throw invalid('send the file as the body with Content-Type: application/octet-stream');
  }
  return body;
}
