#!/usr/bin/env node
// The command line runs from the compiled output; `npm install` builds it (the prepare script).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((error) => {
  process.stderr.write(`drover: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
