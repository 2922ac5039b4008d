import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTaskCgroup, openWorkerCgroup, readUsage, type CgroupSetting } from './cgroup.js';
import type { GuardMessage } from './task-guard.js';
import { cgroupPopulated, removeCgroup, signalTask, type TaskTarget } from './task-kill.js';

/*
 * Keeps every process of a task inside the worker's reach, and kills them all when the task
 * is stopped, when it ends, and when the worker dies:
 *
 *   means                          | contains                               | where
 *   -------------------------------+----------------------------------------+----------------
 *   process group (detached spawn) | the command and what it starts         | everywhere
 *   parent-death signal (setpriv)  | the command, if the worker dies        | Linux, util-linux
 *   a cgroup v2 per task           | everything, new sessions and forks too | delegated cgroup
 *   environment scan of /proc      | what left the group, unless it cleared | Linux
 *                                  | its environment                        |
 *   the guard process              | runs the above when the worker dies    | everywhere
 */

export interface ContainmentOptions {
  nodeName: string;
  cgroup: CgroupSetting;
  log: (message: string) => void;
}

export class Containment {
  private constructor(
    private readonly nodeName: string,
    /** The launcher that sets the parent-death signal, when this machine has one. */
    private readonly pdeathsig: readonly string[],
    private readonly cgroupDir: string | undefined,
    private readonly guard: ChildProcess,
  ) {}

  /** Finds what this machine offers and starts the guard. */
  static start(options: ContainmentOptions): Containment {
    const cgroup = openWorkerCgroup(options.cgroup);
    const pdeathsig = findPdeathsigLauncher();
    const guardArgs = [options.nodeName, ...(cgroup.dir ? [cgroup.dir] : [])];
    const guard = spawn(process.execPath, [...process.execArgv, guardScript(), ...guardArgs], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    guard.unref();
    guard.stdin!.on('error', () => undefined);
    (guard.stdin as unknown as { unref?: () => void }).unref?.();
    options.log(
      `task containment: ${cgroup.dir ? `a cgroup per task under ${cgroup.dir}` : `no cgroup (${cgroup.reason}); process groups and /proc`}, ${pdeathsig.length ? 'parent-death signal by setpriv' : 'no parent-death signal (no setpriv)'}`,
    );
    return new Containment(options.nodeName, pdeathsig, cgroup.dir, guard);
  }

  get usesCgroups(): boolean {
    return this.cgroupDir !== undefined;
  }

  /** A task's containment; call before launching its command. */
  scope(executionId: number): TaskScope {
    const cgroup = this.cgroupDir ? createTaskCgroup(this.cgroupDir, executionId) : undefined;
    const target: TaskTarget = { executionId, nodeName: this.nodeName, cgroup };
    this.tell({ op: 'add', executionId, cgroup });
    return new TaskScope(target, this.pdeathsig, (message) => this.tell(message));
  }

  /** The worker is stopping and has killed its tasks: the guard may go. */
  close(): void {
    this.guard.stdin?.end();
  }

  private tell(message: GuardMessage): void {
    this.guard.stdin?.write(`${JSON.stringify(message)}\n`);
  }
}

export class TaskScope {
  constructor(
    private readonly target: TaskTarget,
    private readonly pdeathsig: readonly string[],
    private readonly tell: (message: GuardMessage) => void,
  ) {}

  /**
   * The argv that runs `argv` contained: it moves itself into the task's cgroup, sets its
   * parent-death signal, then execs the command (same pid, so still the group leader).
   * The executable must be resolved already: a launcher cannot report ENOENT as spawn does.
   */
  wrap(argv: readonly string[]): string[] {
    const prefix: string[] = [];
    if (this.target.cgroup) {
      prefix.push('/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.target.cgroup);
    }
    return [...prefix, ...this.pdeathsig, ...argv];
  }

  /** Whether wrap() changes anything. */
  get wraps(): boolean {
    return this.target.cgroup !== undefined || this.pdeathsig.length > 0;
  }

  launched(pid: number): void {
    this.target.pid = pid;
    this.tell({ op: 'pid', executionId: this.target.executionId, pid });
  }

  /** A polite signal to the command's group and to every member of the task. */
  signal(signal: NodeJS.Signals): void {
    signalTask(this.target, signal);
  }

  /** SIGKILL to everything the task left running. */
  killAll(): void {
    signalTask(this.target, 'SIGKILL');
  }

  /** The task's cgroup directory, when it has one. */
  get cgroupDir(): string | undefined {
    return this.target.cgroup;
  }

  /** CPU time and peak memory of the whole task; only with a cgroup. */
  usage(): ReturnType<typeof readUsage> {
    return this.target.cgroup ? readUsage(this.target.cgroup) : undefined;
  }

  /** After killAll(): waits for the members to die, removes the cgroup, tells the guard. */
  async release(): Promise<void> {
    const { cgroup } = this.target;
    if (cgroup) {
      for (let i = 0; i < 200; i++) {
        if (!cgroupPopulated(cgroup) && removeCgroup(cgroup)) break;
        if (i % 20 === 19) signalTask(this.target, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    this.tell({ op: 'remove', executionId: this.target.executionId });
  }
}

/** `setpriv --pdeathsig KILL --` where util-linux's setpriv works, else nothing. */
function findPdeathsigLauncher(): string[] {
  if (process.platform !== 'linux') return [];
  const launcher = ['setpriv', '--pdeathsig', 'KILL', '--'];
  const probe = spawnSync(launcher[0]!, [...launcher.slice(1), 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? launcher : [];
}

/** The guard's entry point, beside this file (task-guard.js in dist/, .ts under tsx). */
function guardScript(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./task-guard${ext}`, import.meta.url));
}
