import type { Command } from 'commander';
import { registerJobActionCommands } from './job-actions.js';
import { registerJobsCommand } from './jobs.js';
import { registerLimitCommand } from './limits.js';
import { registerLogsCommand } from './logs.js';
import { registerModifyCommand } from './modify.js';
import { registerNodesCommand } from './nodes.js';
import { registerNotifyCommand } from './notify.js';
import { registerOutputsCommand } from './outputs.js';
import { registerPoolCommand } from './pools.js';
import { registerRetryCommand } from './retry.js';
import { registerSessionsCommand } from './sessions.js';
import { registerShowCommand } from './show.js';
import { registerStepsCommand } from './steps.js';
import { registerSubmitCommand } from './submit.js';
import { registerTaskCommand } from './tasks.js';
import { registerTypesCommand } from './types.js';
import { registerUsageCommand } from './usage.js';
import { registerWaitCommand } from './wait.js';

/**
 * The client commands over the native API: submit, jobs, show, steps, logs, sessions, wait, the job actions,
 * retry, modify, task, nodes, types, usage, notify, limit and pool. Each takes --server (DROVER_SERVER), --token (DROVER_TOKEN) and --json.
 */
export function registerClientCommands(program: Command): void {
  registerSubmitCommand(program);
  registerJobsCommand(program);
  registerShowCommand(program);
  registerStepsCommand(program);
  registerLogsCommand(program);
  registerSessionsCommand(program);
  registerWaitCommand(program);
  registerOutputsCommand(program);
  registerJobActionCommands(program);
  registerRetryCommand(program);
  registerModifyCommand(program);
  registerTaskCommand(program);
  registerNodesCommand(program);
  registerTypesCommand(program);
  registerUsageCommand(program);
  registerNotifyCommand(program);
  registerLimitCommand(program);
  registerPoolCommand(program);
}
