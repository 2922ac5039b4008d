import type { FastifyError, FastifyInstance } from 'fastify';
import { DroverError, ERROR_CODES } from '../domain/errors.js';
import { asInputError } from './input-guards.js';

export interface ErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
  /** The request's id, as in its X-Request-Id header and the server's log line. */
  requestId?: string;
}

/** Turns any error into the native JSON body; nothing internal (stacks, SQL) leaks out. */
export function toErrorBody(raw: unknown): { status: number; body: ErrorBody } {
  const error = asInputError(raw);
  if (error instanceof DroverError) {
    return {
      status: error.status,
      body: {
        error: error.code,
        message: error.message,
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  const e = error as FastifyError;
  if (e.validation) {
    const where = e.validationContext ?? 'request';
    // Ajv's "must NOT have additional properties" does not say which one; name it.
    const extra = (e.validation[0]?.params as { additionalProperty?: unknown } | undefined)
      ?.additionalProperty;
    const named = typeof extra === 'string' ? ` (unknown property "${extra}")` : '';
    const choices = choicesOf(e.validation);
    const message = choices
      ? `${choices.path} must be one of ${choices.values.join(', ')}`
      : `${e.message.replace(/^(body|querystring|params|headers)/, '')}${named}`;
    return { status: 400, body: { error: 'VALIDATION', message: `${where}${message}` } };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) {
    return {
      status: 400,
      body: { error: 'VALIDATION', message: `the body is not valid JSON: ${e.message}` },
    };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: e.message } };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'VALIDATION', message: e.message } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: ERROR_CODES.INTERNAL.title } };
}

/**
 * A union of literals fails as one "must be equal to constant" per literal and then "must
 * match a schema in anyOf", which names no choice; say which values are allowed instead.
 */
function choicesOf(
  errors: NonNullable<FastifyError['validation']>,
): { path: string; values: string[] } | undefined {
  const path = errors[0]?.instancePath;
  if (path === undefined || !errors.every((v) => v.instancePath === path)) return undefined;
  if (!errors.some((v) => v.keyword === 'const')) return undefined;
  if (!errors.every((v) => v.keyword === 'const' || v.keyword === 'anyOf')) return undefined;
  const values = errors
    .filter((v) => v.keyword === 'const')
    .map((v) => String((v.params as { allowedValue?: unknown }).allowedValue));
  return { path, values };
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorBody(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="drover"');
    void reply.status(status).send({ ...body, requestId: request.id });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: 'NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
      requestId: request.id,
    });
  });
}
