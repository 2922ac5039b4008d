import { Type } from '@sinclair/typebox';
import { JOB_BOUNDS } from '../../domain/job-bounds.js';
import { Resources, RetryDelayInput, RetryRules } from './job-schemas.js';
import { Time } from './schemas.js';

/* The schemas of job types: their interface fields and definitions. */

export const InterfaceField = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal('file'),
    Type.Literal('string'),
    Type.Literal('integer'),
    Type.Literal('number'),
    Type.Literal('boolean'),
    Type.Literal('object'),
    Type.Literal('array'),
  ]),
  required: Type.Optional(Type.Boolean()),
  multiple: Type.Optional(Type.Boolean()),
  description: Type.Optional(Type.String()),
});

export const JobTypeDefinition = Type.Object({
  command: Type.Array(Type.String(), { description: 'Argument array with {tokens}' }),
  inputs: Type.Optional(Type.Array(InterfaceField)),
  parameters: Type.Optional(Type.Array(InterfaceField)),
  outputs: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        type: Type.String(),
        pattern: Type.Optional(Type.String()),
        required: Type.Optional(
          Type.Boolean({
            description:
              'With a pattern: a task that finishes well must have uploaded a non-empty file matching it, else it fails with the DATA error output-missing and is retried (default true)',
          }),
        ),
      }),
    ),
  ),
  resources: Type.Optional(Type.Partial(Resources)),
  taskTimeout: Type.Optional(Type.Integer(JOB_BOUNDS.taskTimeout)),
  maxTries: Type.Optional(Type.Integer(JOB_BOUNDS.maxTries)),
  retryDelay: Type.Optional(RetryDelayInput),
  retryRules: Type.Optional(RetryRules),
  priority: Type.Optional(Type.Integer(JOB_BOUNDS.priority)),
  progressPattern: Type.Optional(Type.String()),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export const JobType = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    version: Type.String(),
    title: Type.String(),
    description: Type.String(),
    category: Type.String(),
    isSystem: Type.Boolean(),
    active: Type.Boolean({
      description:
        'false once deprecated (Scale) or deleted (UFDL template): those faces take no new jobs of it',
    }),
    revision: Type.Integer(),
    definition: Type.Unknown(),
    createdAt: Time,
    lastModified: Time,
  },
  { $id: 'JobType' },
);
