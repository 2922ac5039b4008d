// Writes docs/state-machines.md from the transition tables (`npx tsx scripts/state-machines-doc.ts`).
// A test fails when the page and the tables disagree.
import { writeFileSync } from 'node:fs';
import { executionStateMachine } from '../src/domain/execution-state.js';
import { jobStateMachine } from '../src/domain/job-state.js';
import { toMermaid } from '../src/domain/state-machine.js';
import { taskStateMachine } from '../src/domain/task-state.js';

export function stateMachinesPage(): string {
  const section = (title: string, text: string, diagram: string) =>
    `## ${title}\n\n${text}\n\n\`\`\`mermaid\n${diagram}\n\`\`\`\n`;
  return [
    '# State machines\n',
    'Generated from the transition tables in `src/domain/*-state.ts` by',
    '`npx tsx scripts/state-machines-doc.ts`; a test keeps this page and the tables in step.',
    'Each arrow is labelled with the events that take it. Any move not drawn is refused',
    'with 409 `ILLEGAL_TRANSITION`.\n',
    section(
      'Job',
      'Deletion and archiving are flags beside the state, not states.',
      toMermaid(jobStateMachine),
    ),
    section(
      'Task',
      'A task is RUNNING from the moment a node acquires it; its execution says whether the command has started.',
      toMermaid(taskStateMachine),
    ),
    section(
      'Execution',
      'One attempt of a task on a node. ACQUIRED and RUNNING hold a lease; the execution id is the fencing token.',
      toMermaid(executionStateMachine),
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync('docs/state-machines.md', stateMachinesPage());
}
