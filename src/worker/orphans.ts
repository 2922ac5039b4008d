import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * The guard (task-guard.ts) kills a dead worker's commands; should it have died too, the
 * worker finds their directories under its work directory when it starts again and kills
 * what is left, but only a process whose environment proves that it is that execution of
 * this node (Linux /proc), never a stranger that reused the pid.
 */
export async function killOrphans(
  workDir: string,
  nodeName: string,
  log: (message: string) => void,
): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(workDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const dir = join(workDir, entry);
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(pid) && pid > 1) {
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      const vars = new Set(environ.split('\0'));
      const owner = [...vars].find((v) => v.startsWith('DROVER_NODE_NAME='));
      if (owner !== undefined && owner !== `DROVER_NODE_NAME=${nodeName}`) {
        // Another worker's command, sharing this work directory: not ours to touch.
        continue;
      }
      if (vars.has(`DROVER_EXECUTION_ID=${entry}`)) {
        try {
          process.kill(-pid, 'SIGKILL');
          log(`killed the leftover command of execution ${entry} (pid ${pid})`);
        } catch {
          // gone already
        }
      }
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
