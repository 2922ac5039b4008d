/**
 * The one registry of Drover's error codes. Each code carries the HTTP status the native
 * API answers with; each dialect renders the same errors in its own format.
 */
export const ERROR_CODES = {
  VALIDATION: { status: 400, title: 'The request is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  CONFLICT: { status: 409, title: 'The resource is in a conflicting state' },
  ILLEGAL_TRANSITION: { status: 409, title: 'The action is not legal in the current state' },
  STALE_LEASE: { status: 409, title: 'The lease is no longer held' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNAVAILABLE: { status: 503, title: 'The server is not ready' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class DroverError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DroverError';
    this.status = ERROR_CODES[code].status;
  }
}

export const notFound = (entity: string, id: number | string): DroverError =>
  new DroverError('NOT_FOUND', `${entity} ${id} does not exist`, { entity, id });

export const invalid = (message: string, details?: Record<string, unknown>): DroverError =>
  new DroverError('VALIDATION', message, details);
