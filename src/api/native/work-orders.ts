import { Type, type Static } from '@sinclair/typebox';
import type { Acquired } from '../../engine/dispatch/dispatcher.js';
import { executionJson, jobJson, taskJson } from './representations.js';
import { Execution, Job, Task } from './schemas.js';

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
});

/** Made from the claim's own rows: no reads after its transaction. */
export function workOrderJson(order: Acquired): Static<typeof WorkOrder> {
  return {
    execution: executionJson(order.execution),
    task: taskJson(order.task),
    job: jobJson(order.job, order.type),
    jobType: {
      name: order.type.name,
      version: order.type.version,
      revision: order.revision.revision_num,
      definition: JSON.parse(order.revision.definition_json) as unknown,
    },
  };
}
