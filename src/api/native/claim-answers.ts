import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { WorkOrder } from './work-orders.js';

/*
 * The answer of a batched claim, written as text here rather than by the route's
 * serializer. The orders of one job share its rendered job and job type (work-orders.ts),
 * and the route's serializer wrote them again for every order: of a 2,315-byte order of a
 * command-line job, the job is 1,276 bytes and its type 369. Here each job's and each job
 * type's text is written once per rendered object and reused by every order that shares
 * it. The parts are written by the serializers Fastify
 * compiles for their own schemas, in the order of the answer's schema, so the text is the
 * route's serializer's, byte for byte (test/api/claim-answers.test.ts).
 */

export const FinishResults = Type.Array(
  Type.Object({
    executionId: Type.Integer(),
    status: Type.Integer({ description: '200, or the status a lone finish would get' }),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  }),
);

/** The 200 answer of POST /nodes/:id/claims. */
export const ClaimAnswer = Type.Object({
  orders: Type.Array(WorkOrder),
  results: Type.Optional(FinishResults),
  leaseMs: Type.Optional(Type.Integer({ description: 'With orders: how long a lease lasts' })),
  waitedMs: Type.Optional(
    Type.Integer({
      description:
        'With orders: how long after this claim arrived their leases began (its ' +
        'long-poll wait). A node that has not renewed a lease within waitedMs + ' +
        'leaseMs of sending the claim must stop that task.',
    }),
  ),
});
export type ClaimAnswer = Static<typeof ClaimAnswer>;

export type Serialize = (value: unknown) => string;

/** Writes claim answers with serializers of their parts, made once by `compile`. */
export function claimAnswerWriter(compile: (schema: TSchema) => Serialize) {
  const { execution, task, job, jobType, pathMappingRules } = WorkOrder.properties;
  const write = {
    execution: compile(execution),
    task: compile(task),
    job: compile(job),
    jobType: compile(jobType),
    rules: compile(pathMappingRules),
    results: compile(FinishResults),
    integer: compile(Type.Integer()),
  };
  // Keyed by the rendered objects, which are never changed once made.
  const jobTexts = new WeakMap<object, string>();
  const typeTexts = new WeakMap<object, string>();
  const once = (texts: WeakMap<object, string>, value: object, serialize: Serialize) => {
    let text = texts.get(value);
    if (text === undefined) texts.set(value, (text = serialize(value)));
    return text;
  };
  return (answer: ClaimAnswer): string => {
    const orders = answer.orders.map(
      (o) =>
        `{"execution":${write.execution(o.execution)},"task":${write.task(o.task)}` +
        `,"job":${once(jobTexts, o.job, write.job)},"jobType":${once(typeTexts, o.jobType, write.jobType)}` +
        (o.pathMappingRules === undefined
          ? ''
          : `,"pathMappingRules":${write.rules(o.pathMappingRules)}`) +
        '}',
    );
    let text = `{"orders":[${orders.join(',')}]`;
    if (answer.results !== undefined) text += `,"results":${write.results(answer.results)}`;
    if (answer.leaseMs !== undefined) text += `,"leaseMs":${write.integer(answer.leaseMs)}`;
    if (answer.waitedMs !== undefined) text += `,"waitedMs":${write.integer(answer.waitedMs)}`;
    return `${text}}`;
  };
}
