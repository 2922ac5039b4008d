import type { JobTypeDefinition } from '../domain/job-type-definition.js';

/** What an acquire answers (the parts of it the worker reads). */
export interface WorkOrder {
  execution: {
    id: number;
    leaseExpiresAt: string | null;
    /** The node's GPU indexes given to this task; absent when its job asks no gpus. */
    gpus?: number[];
  };
  task: {
    id: number;
    frames: string;
    frameStart: number;
    frameEnd: number;
    /** The task's own parameter values (an OpenJD task's Task.Param.*); absent for frames. */
    parameters?: Record<string, string>;
  };
  job: {
    id: number;
    /** The job it is a child of (an OpenJD job, of its step jobs); absent when none. */
    parentId?: number;
    name: string;
    inputs: Record<string, unknown>;
    parameters: Record<string, unknown>;
    /** Seconds; 0 means no limit. */
    taskTimeout: number;
    /** FAIL, COMPLETE or NOTIFY; absent (an older server) reads as FAIL. */
    taskTimeoutAction?: string;
  };
  jobType: { name: string; version: string; revision: number; definition: unknown };
  /** The path mapping rules of the job's pool; absent when it has none (or an older server). */
  pathMappingRules?: unknown[];
}

/** An order of a claim asked with `jobsOnce` whose job an earlier order of the answer carries. */
export interface LaterOrderOfJob {
  execution: WorkOrder['execution'];
  task: WorkOrder['task'] & { jobId: number };
}

/**
 * A claim's orders, each whole: a later order of a job (asked with `jobsOnce`) takes its job,
 * type and rules from the answer's first order of that job.
 */
export function wholeOrders(orders: readonly (WorkOrder | LaterOrderOfJob)[]): WorkOrder[] {
  const firsts = new Map<number, WorkOrder>();
  return orders.map((order) => {
    if ('job' in order) {
      if (!firsts.has(order.job.id)) firsts.set(order.job.id, order);
      return order;
    }
    const first = firsts.get(order.task.jobId);
    if (!first) {
      throw new Error(
        `the claim's answer has an order of job ${order.task.jobId} (execution ${order.execution.id}) without that job`,
      );
    }
    const { job, jobType, pathMappingRules } = first;
    return { ...order, job, jobType, ...(pathMappingRules ? { pathMappingRules } : {}) };
  });
}

/** The definition as the worker uses it; a missing field reads as its default. */
export function definitionOf(
  order: WorkOrder,
): Pick<JobTypeDefinition, 'command' | 'env' | 'progressPattern'> {
  const d = (order.jobType.definition ?? {}) as Partial<JobTypeDefinition>;
  return {
    command: Array.isArray(d.command) ? d.command.map(String) : [],
    env: d.env && typeof d.env === 'object' ? d.env : {},
    ...(typeof d.progressPattern === 'string' ? { progressPattern: d.progressPattern } : {}),
  };
}
