import type { Command } from 'commander';

/** The client commands (submit, jobs, show, logs, wait, …) over the native API. */
export function registerClientCommands(_program: Command): void {}
