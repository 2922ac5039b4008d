import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './api-client.js';
import {
  action,
  clientOf,
  commonFlags,
  out,
  parseId,
  printJson,
  withClientOptions,
} from './command-support.js';
import { bytes, table } from './format.js';
import { outputsOf, outputColumns } from './show.js';

/* `drover outputs ID`: a job's outputs; `--download DIR` saves them (names keep their folders). */

/** Where an output goes under `dir`; a name that would leave it is refused. */
export function outputPath(dir: string, name: string): string {
  const relative = normalize(name);
  const target = resolve(dir, relative);
  if (isAbsolute(name) || !target.startsWith(resolve(dir) + sep)) {
    throw new CliError(`refusing to write output "${name}" outside ${dir}`);
  }
  return target;
}

export function registerOutputsCommand(program: Command): void {
  withClientOptions(
    program
      .command('outputs')
      .summary("list or download a job's outputs")
      .description("List a job's outputs; --download DIR saves them into DIR.")
      .argument('<id>', 'job id')
      .argument('[names...]', 'only these outputs'),
  )
    .option('-d, --download <dir>', 'save the outputs into this directory')
    .action(
      action(
        async (idText: string, names: string[], flags: { download?: string }, command: Command) => {
          const common = commonFlags(command);
          const client = clientOf(common);
          const id = parseId(idText);
          await client.get(`/jobs/${id}`);
          const all = await outputsOf(client, id);
          if (all === undefined) {
            throw new CliError('this server does not serve job outputs (GET /jobs/:id/outputs)');
          }
          const missing = names.filter((n) => !all.some((o) => o.name === n));
          if (missing.length) {
            throw new CliError(
              `job ${id} has no output ${missing.map((n) => `"${n}"`).join(', ')}`,
            );
          }
          const outputs = names.length ? all.filter((o) => names.includes(o.name)) : all;
          if (flags.download === undefined) {
            if (common.json) return printJson(outputs);
            out(outputs.length ? table(outputColumns, outputs) : `job ${id} has no outputs\n`);
            return;
          }
          const saved: Array<{ name: string; path: string; size: number }> = [];
          for (const output of outputs) {
            const path = outputPath(flags.download, output.name);
            const data = await client.bytes(`/outputs/${output.id}/content`);
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, data);
            saved.push({ name: output.name, path, size: data.byteLength });
            if (!common.json)
              out(`${join(flags.download, output.name)}  ${bytes(data.byteLength)}\n`);
          }
          if (common.json) printJson(saved);
        },
      ),
    );
}
