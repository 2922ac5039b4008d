import { Type, type TSchema, type Static } from '@sinclair/typebox';
import { INT32_MAX, MAX_ID } from '../../domain/job-bounds.js';
import { JOB_STATES } from '../../domain/job-state.js';
import { MAX_LINES_PER_BATCH } from '../../engine/executions/execution-logs.js';

/*
 * The native API's schemas: they validate requests and, through @fastify/swagger, are the
 * OpenAPI document at /docs. One definition per shape.
 */

export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });
export const IdParams = Type.Object({ id: Id });
/*
 * A nullable scalar is JSON Schema's `type: [t, 'null']`, and a set of strings is an `enum`,
 * not TypeBox's anyOf of branches: fast-json-stringify writes an anyOf by validating the
 * value against each branch with Ajv in turn (a date-time regex for every timestamp, a
 * branch per state), which made serialising a claim's ten work orders cost 2.2 times what
 * JSON.stringify does. @fastify/swagger shows both forms the same way (`nullable: true`).
 */
export const Time = Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' });
export const Nullable = <T extends TSchema>(schema: T) =>
  typeof schema.type === 'string' && !['object', 'array'].includes(schema.type)
    ? Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] })
    : Type.Union([schema, Type.Null()]);
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'Error code from the registry (VALIDATION, NOT_FOUND, …)' }),
    message: Type.String({ description: 'What went wrong and what to do about it' }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    requestId: Type.Optional(
      Type.String({
        description: 'The request id, as in the X-Request-Id header and the server log',
      }),
    ),
  },
  { $id: 'ErrorBody' },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
};

/** The most items any native list route answers in one page. */
export const MAX_PAGE = 1000;

/**
 * `limit` and `offset` of a list route whose page is `defaultLimit` items unless asked.
 * The schema's default is the one applied: the validator fills it in before the handler
 * runs, so a handler's own fallback would never be reached (the tasks route once said 1000
 * and answered 50).
 */
export const pageQuery = (defaultLimit: number) =>
  Type.Object({
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PAGE,
        default: defaultLimit,
        description: `Items in the page: ${defaultLimit} unless given, at most ${MAX_PAGE}`,
      }),
    ),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: INT32_MAX, default: 0 })),
  });

export const Page = pageQuery(50);

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    next: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      description:
        'The path and query of the next page (same filters and page size); null on the last page',
    }),
  });

/**
 * `limit` and `before` of a newest-first log paged by id: `before` is the id the page
 * starts below, as the `next` link of the page before gives it.
 */
export const beforeQuery = (defaultLimit: number) =>
  Type.Object({
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PAGE,
        default: defaultLimit,
        description: `Items in the page: ${defaultLimit} unless given, at most ${MAX_PAGE}`,
      }),
    ),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_ID,
        description: 'Only items with a smaller id (from the `next` link)',
      }),
    ),
  });

/** The paging fields a newest-first log adds to its `items`. */
export const beforePaging = {
  limit: Type.Integer(),
  next: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: 'The path and query of the next (older) page; null on the last page',
  }),
};

export const JobState = StringEnum(JOB_STATES);
export const TaskState = JobState;

/**
 * The fields of a batch of log lines a worker ships (an execution's or a session's log),
 * each line of one of `streams`.
 */
export const logBatchFields = <S extends string>(...streams: S[]) => ({
  lines: Type.Array(
    Type.Object({
      stream: Type.Union(streams.map((s) => Type.Literal(s))),
      text: Type.String(),
      time: Type.Optional(Type.String({ format: 'date-time' })),
    }),
    { maxItems: MAX_LINES_PER_BATCH },
  ),
  firstLine: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'Position of the first line in the log; a batch sent again is then stored once',
    }),
  ),
});
