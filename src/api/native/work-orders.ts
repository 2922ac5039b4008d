import { Type, type Static } from '@sinclair/typebox';
import type { PathMappingRule } from '../../domain/path-mapping-rules.js';
import type { Acquired } from '../../engine/dispatch/claim-walk.js';
import { Execution, Task } from './execution-schemas.js';
import { Job } from './job-schemas.js';
import { PathMappingRuleSchema } from './path-mapping.js';
import { executionJson, jobJson, taskJson } from './representations.js';

/** What a node gets for each task it takes: everything it needs to run it. */
export const WorkOrder = Type.Object({
  execution: Execution,
  task: Task,
  job: Job,
  jobType: Type.Object({
    name: Type.String(),
    version: Type.String(),
    revision: Type.Integer(),
    definition: Type.Unknown(),
  }),
  pathMappingRules: Type.Optional(
    Type.Array(PathMappingRuleSchema, {
      description:
        "The path mapping rules of the job's pool (pathmapping-1.0 rules): the worker maps PATH parameters by them and its own file's (docs/workers.md)",
    }),
  ),
});

/**
 * An order of a claim's answer: a work order, whose job, jobType and pathMappingRules are
 * absent from a later order of a job when the claim asked `jobsOnce` (they are those of the
 * answer's first order of `task.jobId`). One object schema rather than a union of two, which
 * would hold the Execution and Task schemas (and their $id) twice.
 */
export const ClaimOrder = Type.Object(
  {
    ...WorkOrder.properties,
    job: Type.Optional(WorkOrder.properties.job),
    jobType: Type.Optional(WorkOrder.properties.jobType),
  },
  {
    description:
      "A work order. With jobsOnce, a later order of a job that an earlier order of the answer carries has execution and task alone: its job, jobType and pathMappingRules are that order's (task.jobId)",
  },
);

/*
 * A claim's orders from one job share that job's row object, and every claim shares the
 * dispatcher's revision objects (rows never changed once read): each is rendered once, not
 * once per task. A batched claim of ten rendered the same job and parsed the same definition
 * ten times (jobJson and the parse were about 4% of the server's busy time in a bench/peer.ts
 * --mode batched profile on SQLite).
 */
const renderedJobs = new WeakMap<Acquired['job'], Static<typeof WorkOrder>['job']>();
const renderedTypes = new WeakMap<Acquired['revision'], Static<typeof WorkOrder>['jobType']>();

/**
 * Made from the claim's own rows, and the rules of the job's pool (from the engine's cache,
 * read before: pools/path-mapping.ts). Absent when the pool has none.
 */
export function workOrderJson(
  order: Acquired,
  rules: ReadonlyMap<string, readonly PathMappingRule[]>,
): Static<typeof WorkOrder> {
  let job = renderedJobs.get(order.job);
  if (!job) renderedJobs.set(order.job, (job = jobJson(order.job, order.type)));
  let jobType = renderedTypes.get(order.revision);
  if (!jobType) {
    jobType = {
      name: order.type.name,
      version: order.type.version,
      revision: order.revision.revision_num,
      definition: JSON.parse(order.revision.definition_json) as unknown,
    };
    renderedTypes.set(order.revision, jobType);
  }
  const pathMappingRules = rules.get(order.job.pool) ?? [];
  return {
    execution: executionJson(order.execution),
    task: taskJson(order.task),
    job,
    jobType,
    ...(pathMappingRules.length > 0 ? { pathMappingRules: [...pathMappingRules] } : {}),
  };
}

/**
 * A claim's orders. With `jobsOnce`, an order whose job an earlier order of the answer
 * carries has its execution and task alone (ClaimOrder).
 */
export function claimOrdersJson(
  taken: readonly Acquired[],
  rules: ReadonlyMap<string, readonly PathMappingRule[]>,
  jobsOnce: boolean,
): Static<typeof ClaimOrder>[] {
  if (!jobsOnce) return taken.map((a) => workOrderJson(a, rules));
  const written = new Set<number>();
  return taken.map((a) => {
    if (written.has(a.job.id)) {
      return { execution: executionJson(a.execution), task: taskJson(a.task) };
    }
    written.add(a.job.id);
    return workOrderJson(a, rules);
  });
}
