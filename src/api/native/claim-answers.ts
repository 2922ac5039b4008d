import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ClaimOrder, WorkOrder } from './work-orders.js';

/*
 * The answer of a batched claim, written as text here rather than by the route's
 * serializer. The orders of one job share its rendered job and job type (work-orders.ts),
 * and the route's serializer wrote them again for every order: of a 2,315-byte order of a
 * command-line job, the job is 1,276 bytes and its type 369. Here each job's and each job
 * type's text is written once per rendered object and reused by every order that shares
 * it. The parts are written by the serializers Fastify
 * compiles for their own schemas, in the order of the answer's schema, so the text is the
 * route's serializer's, byte for byte (test/api/claim-answers.test.ts).
 *
 * Still, those bytes crossed the socket and every node parsed them again: a claim of ten
 * orders of one job was 23,250 bytes. A claim asked with `jobsOnce` gets each job in its
 * first order only (ClaimOrder): about 8,300 bytes for those ten. In bench/peer.ts
 * (batched protocol, 50 nodes, alternated on one machine, one run each):
 * - SQLite, 30,000 tasks, a first cut: the server 104 and 101 µs of CPU per task before, 95
 *   and 97 after; the nodes 42 % and 41 % of a core before, 36 % and 35 % after; 10,840
 *   and 11,146 tasks/s before, 12,290 and 12,441 after;
 * - this code, 20,000 tasks: on SQLite 9,235 and 10,101 tasks/s before, 11,069 and 9,883
 *   after, the nodes 42 % before and 34–35 % after; on PostgreSQL 5,181 and 5,695 before,
 *   5,588 and 5,409 after (the lane's transactions set its pace there).
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
  orders: Type.Array(ClaimOrder),
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
    const orders = answer.orders.map((o) => {
      const head = `{"execution":${write.execution(o.execution)},"task":${write.task(o.task)}`;
      if (o.job === undefined || o.jobType === undefined) return `${head}}`;
      return (
        head +
        `,"job":${once(jobTexts, o.job, write.job)},"jobType":${once(typeTexts, o.jobType, write.jobType)}` +
        (o.pathMappingRules === undefined
          ? ''
          : `,"pathMappingRules":${write.rules(o.pathMappingRules)}`) +
        '}'
      );
    });
    let text = `{"orders":[${orders.join(',')}]`;
    if (answer.results !== undefined) text += `,"results":${write.results(answer.results)}`;
    if (answer.leaseMs !== undefined) text += `,"leaseMs":${write.integer(answer.leaseMs)}`;
    if (answer.waitedMs !== undefined) text += `,"waitedMs":${write.integer(answer.waitedMs)}`;
    return `${text}}`;
  };
}
