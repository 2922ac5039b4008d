import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import type { TaskScope } from './containment.js';

/*
 * A task's command runs in a process group of its own (detached), inside its task scope
 * (containment.ts: a cgroup and a parent-death signal where the machine has them), so that
 * the worker can signal the command and everything it started at once: SIGTERM, then SIGKILL
 * after a grace period. No shell runs the command unless the command itself is one.
 */

export interface Launched {
  child: ChildProcess;
  pid: number;
  /** Resolves when the command has exited (code, or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout and stderr have ended (a grandchild may keep them open). */
  streamsClosed: Promise<void>;
}

/** Starts argv; rejects with the spawn error (ENOENT, EACCES…) when it cannot start. */
export function launch(
  argv: readonly string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    /** Each line of output, as it comes. */
    onLine: (stream: 'stdout' | 'stderr', line: string) => void;
    scope: TaskScope;
  },
): Promise<Launched> {
  let full = [...argv];
  if (options.scope.wraps) {
    // The launcher execs the command, so a missing one would look like a command that
    // failed; find it here to fail the way spawn does (ENOENT, EACCES).
    try {
      full = options.scope.wrap([executable(argv[0]!, options.cwd, options.env), ...argv.slice(1)]);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
  const [command, ...args] = full;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Readers go on at once: Node discards output that nobody listens to when the child
    // exits, and a short command may exit before the caller's next await.
    const closed = (['stdout', 'stderr'] as const).map((stream) => {
      const source = child[stream];
      if (!source) return Promise.resolve();
      const lines = createInterface({ input: source, crlfDelay: Infinity });
      lines.on('line', (line) => options.onLine(stream, line));
      return new Promise<void>((resolve) => lines.once('close', resolve));
    });
    const streamsClosed = Promise.all(closed).then(() => undefined);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    child.once('error', (error) => {
      if (child.pid === undefined) reject(error);
    });
    child.once('spawn', () => {
      options.scope.launched(child.pid!);
      resolve({ child, pid: child.pid!, exited, streamsClosed });
    });
  });
}

/** The path execvp would run for `command`, or the error it would fail with. */
function executable(command: string, cwd: string, env: NodeJS.ProcessEnv): string {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolvePath(cwd, command)]
    : (env.PATH ?? '/usr/local/bin:/usr/bin:/bin')
        .split(delimiter)
        .map((dir) => resolvePath(cwd, dir || '.', command));
  let denied = false;
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      denied = true;
    }
  }
  throw Object.assign(new Error(`spawn ${command} ${denied ? 'EACCES' : 'ENOENT'}`), {
    code: denied ? 'EACCES' : 'ENOENT',
    path: command,
  });
}

/**
 * SIGTERM to every process of the task, SIGKILL to all of them after `graceMs` if the command
 * has not exited by then, and SIGKILL to whatever the command left behind once it has.
 */
export async function killTree(
  launched: Launched,
  scope: TaskScope,
  graceMs: number,
): Promise<void> {
  scope.signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'grace'>((resolve) => {
    timer = setTimeout(() => resolve('grace'), graceMs);
  });
  const first = await Promise.race([launched.exited.then(() => 'exited' as const), grace]);
  clearTimeout(timer);
  scope.killAll();
  if (first === 'grace') await launched.exited;
}

/**
 * Whether the process has exited though Node has not yet collected it: a zombie in /proc
 * (Linux). Its end is then settled, whatever signal comes. Node collects a child only when
 * its event loop gets to the SIGCHLD, which under load is tens or hundreds of milliseconds
 * after the exit. False where /proc cannot tell.
 */
export function exitedUncollected(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) state …", and comm may itself hold parentheses.
  const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
  return state === 'Z' || state === 'X';
}
