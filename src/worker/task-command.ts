import { gpuEnvironment } from '../domain/gpu-ids.js';
import { OPENJD_STEP_TYPE } from '../formats/openjd/openjd-run.js';
import type { PathMappingRule } from '../formats/openjd/path-mapping.js';
import { buildArgv, buildEnv, workerBaseEnv, type TemplateValues } from './command-template.js';
import type { SessionTicket } from './openjd-sessions.js';
import { prepareOpenjdTask } from './openjd-task.js';
import { rulesForOrder } from './path-mapping-rules.js';
import { definitionOf, type WorkOrder } from './work-order.js';

/*
 * The command line and environment one execution runs with: the job type's command
 * template filled in with the task's values, or an OpenJD step's action.
 */

export interface TaskCommand {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** An OpenJD action: its cancel grace and whether it is told before it is killed. */
  openjd: Awaited<ReturnType<typeof prepareOpenjdTask>>;
}

/** Throws when the template cannot be filled in (the launch then fails as SYSTEM). */
export async function taskCommand(
  order: WorkOrder,
  where: {
    cwd: string;
    outputDir: string;
    nodeName: string;
    session?: SessionTicket;
    /** The worker's own (--path-mapping-rules). */
    pathMappingRules: readonly PathMappingRule[];
  },
): Promise<TaskCommand> {
  const definition = definitionOf(order);
  const values: TemplateValues = {
    jobId: order.job.id,
    taskId: order.task.id,
    executionId: order.execution.id,
    frameStart: order.task.frameStart,
    frameEnd: order.task.frameEnd,
    frames: order.task.frames,
    inputs: order.job.inputs,
    parameters: order.job.parameters,
    outputDir: where.outputDir,
  };
  // The pool's rules and this worker's (path-mapping-rules.ts); a session holds the same.
  // Only an OpenJD step maps paths: no other job type's launch depends on them.
  const rules =
    order.jobType.name !== OPENJD_STEP_TYPE
      ? []
      : (where.session?.session.rules ?? rulesForOrder(order, where.pathMappingRules));
  const openjd = await prepareOpenjdTask(order, where.cwd, rules);
  const argv = openjd?.argv ?? buildArgv(definition.command, values);
  let env = buildEnv(workerBaseEnv(where.nodeName), definition.env, values);
  if (where.session) env = where.session.session.env(env);
  // Last, so that a job type's env cannot show the task GPUs another task was given.
  if (order.execution.gpus) Object.assign(env, gpuEnvironment(order.execution.gpus));
  return { argv, env, openjd };
}
