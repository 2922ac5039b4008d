import type { Command } from 'commander';

/** `drover worker`: registers this machine as a node and runs tasks. */
export function registerWorkerCommand(_program: Command): void {}
