import type { FastifyError, FastifyRequest } from 'fastify';
import { DroverError } from '../../domain/errors.js';
import { asInputError } from '../input-guards.js';

/*
 * UFDL answers errors as Django REST framework does: a JSON object with a `detail`
 * message (simplejwt adds `code` and `messages`). The statuses and message patterns are
 * UFDL's own (reference §5), so its clients, which show `detail`, read what they expect.
 */

export class UfdlError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'UfdlError';
  }
}

/** DRF's serializer errors: a map of field → messages, without `detail`. */
export class UfdlFieldErrors extends Error {
  constructor(readonly fields: Record<string, string[]>) {
    super('invalid fields');
    this.name = 'UfdlFieldErrors';
  }
}

export const NOT_FOUND = (): UfdlError => new UfdlError(404, 'Not found.');

export const notAuthenticated = (): UfdlError =>
  new UfdlError(
    401,
    'Authentication credentials were not provided.',
    {},
    { 'WWW-Authenticate': 'Bearer realm="api"' },
  );

export const permissionDenied = (): UfdlError =>
  new UfdlError(403, 'You do not have permission to perform this action.');

export const tokenNotValid = (): UfdlError =>
  new UfdlError(
    401,
    'Given token not valid for any token type',
    {
      code: 'token_not_valid',
      messages: [
        {
          token_class: 'AccessToken',
          token_type: 'access',
          message: 'Token is invalid or expired',
        },
      ],
    },
    { 'WWW-Authenticate': 'Bearer realm="api"' },
  );

export type Phase = 'CREATED' | 'STARTED' | 'FINISHED' | 'ERRORED' | 'CANCELLED';

export const illegalPhaseTransition = (
  pk: number,
  phase: Phase,
  transition: string,
  reason: string,
): UfdlError =>
  new UfdlError(
    406,
    `Attempted an illegal phase-transition on workable job ${pk} in phase LifecyclePhase.${phase}: ${transition}\n${reason}.`,
  );

export const jobAcquired = (pk: number): UfdlError =>
  new UfdlError(406, `Attempted to acquire job #${pk} that has already been acquired`);

export const nodeAlreadyWorking = (): UfdlError =>
  new UfdlError(406, 'Attempted to start a job with another already in progress');

export const jobFinished = (action: string): UfdlError =>
  new UfdlError(406, `Attempted to perform the following action on a finished job: ${action}`);

export const jobNotStarted = (action: string): UfdlError =>
  new UfdlError(417, `Attempted to perform the following action on an un-started job: ${action}`);

export const badName = (name: string, why: string): UfdlError =>
  new UfdlError(400, `Bad name '${name}': ${why}`);

export const badArgumentType = (
  action: string,
  parameter: string,
  expected: string,
  value: unknown,
): UfdlError =>
  new UfdlError(
    400,
    `The type passed to ${action} parameter '${parameter}' should be '${expected}', but received ${JSON.stringify(value)}`,
  );

export const badArgumentValue = (
  action: string,
  parameter: string,
  value: string,
  reason?: string,
): UfdlError =>
  new UfdlError(
    400,
    `Bad value for ${action} parameter '${parameter}': ${value}${reason ? `\n${reason}` : ''}`,
  );

export const badNodeId = (value: string, why: string): UfdlError =>
  new UfdlError(400, `Bad Node-Id header '${value}': ${why}`);

export const jsonParseFailure = (reason: string, raw: unknown, schema: unknown): UfdlError =>
  new UfdlError(
    400,
    `Unable to parse JSON: ${reason}\n\n${JSON.stringify(raw ?? null)}\n\nSchema:\n${JSON.stringify(schema ?? {}, null, 2)}`,
  );

/** Status, body and headers of any error thrown under /v1. */
export function ufdlErrorOf(
  raw: unknown,
  request: FastifyRequest,
): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  const error = asInputError(raw);
  if (error instanceof UfdlError) {
    return {
      status: error.status,
      body: { detail: error.detail, ...error.extra },
      headers: error.headers,
    };
  }
  if (error instanceof UfdlFieldErrors) return { status: 400, body: error.fields, headers: {} };
  if (error instanceof DroverError && error.code === 'UNAUTHENTICATED') {
    return ufdlErrorOf(notAuthenticated(), request);
  }
  if (error instanceof DroverError && error.code === 'FORBIDDEN') {
    return ufdlErrorOf(permissionDenied(), request);
  }
  if (error instanceof DroverError) {
    const status =
      error.code === 'NOT_FOUND'
        ? 404
        : error.code === 'ILLEGAL_TRANSITION' ||
            error.code === 'STALE_LEASE' ||
            error.code === 'CONFLICT'
          ? 406
          : error.status;
    const detail = error.code === 'NOT_FOUND' ? 'Not found.' : error.message;
    return { status, body: { detail }, headers: {} };
  }
  const e = error as FastifyError;
  if (e.validation) {
    const schema = request.routeOptions.schema?.body;
    const where = e.validationContext === 'body' ? '' : `${e.validationContext ?? 'request'} `;
    const named = (e.validation[0]?.params as { additionalProperty?: unknown } | undefined)
      ?.additionalProperty;
    const reason = `${where}${e.message.replace(/^(body|querystring|params|headers)\/?/, '')}${
      typeof named === 'string' ? ` ('${named}' was unexpected)` : ''
    }`;
    const body = jsonParseFailure(reason, request.body, schema);
    return { status: 400, body: { detail: body.detail }, headers: {} };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) {
    return { status: 400, body: { detail: `JSON parse error - ${e.message}` }, headers: {} };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { detail: 'Request body is too large.' }, headers: {} };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: 415,
      body: {
        detail: `Unsupported media type "${String(request.headers['content-type'])}" in request.`,
      },
      headers: {},
    };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { detail: e.message }, headers: {} };
  }
  return { status: 500, body: { detail: 'A server error occurred.' }, headers: {} };
}
