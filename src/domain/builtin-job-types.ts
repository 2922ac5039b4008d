import type { JobTypeDefinition } from './job-type-definition.js';
import { NO_RESOURCES } from './job-type-definition.js';

export interface BuiltinJobType {
  name: string;
  version: string;
  title: string;
  description: string;
  category: string;
  definition: JobTypeDefinition;
}

const common = {
  inputs: [],
  outputs: [],
  resources: NO_RESOURCES,
  taskTimeout: 0,
  maxTries: 3,
  priority: 50,
  env: {},
};

/** Job types every Drover has, so a first job needs no set-up. */
export const BUILTIN_JOB_TYPES: readonly BuiltinJobType[] = [
  {
    name: 'command-line',
    version: '1',
    title: 'Command line',
    description:
      "Runs an executable with arguments, without a shell. Arguments may hold frame tokens such as {start}, {end} and {frames}; like Deadline's CommandLine plugin.",
    category: 'builtin',
    definition: {
      ...common,
      command: ['{param.executable}', '{param.arguments...}'],
      parameters: [
        { name: 'executable', type: 'string', required: true },
        { name: 'arguments', type: 'array', required: false },
      ],
    },
  },
  {
    name: 'shell-script',
    version: '1',
    title: 'Shell script',
    description:
      'Runs a script with /bin/sh. The frames of the task are in DROVER_START, DROVER_END and DROVER_FRAMES.',
    category: 'builtin',
    definition: {
      ...common,
      command: ['/bin/sh', '-c', '{param.script}'],
      parameters: [{ name: 'script', type: 'string', required: true }],
    },
  },
];
