import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/*
 * A task's command runs in a process group of its own (detached), so that the worker can
 * signal the command and everything it started at once: SIGTERM to the group, then SIGKILL
 * after a grace period. No shell is involved unless the command itself is one.
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
  },
): Promise<Launched> {
  const [command, ...args] = argv;
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
    child.once('spawn', () => resolve({ child, pid: child.pid!, exited, streamsClosed }));
  });
}

/** Sends a signal to the whole group; false when nothing was left to signal. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * SIGTERM to the group, SIGKILL after `graceMs` if the command has not exited by then, and
 * SIGKILL to whatever the command left behind in its group once it has.
 */
export async function killTree(launched: Launched, graceMs: number): Promise<void> {
  signalGroup(launched.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'grace'>((resolve) => {
    timer = setTimeout(() => resolve('grace'), graceMs);
  });
  const first = await Promise.race([launched.exited.then(() => 'exited' as const), grace]);
  clearTimeout(timer);
  reapGroup(launched.pid);
  if (first === 'grace') {
    signalGroup(launched.pid, 'SIGKILL');
    await launched.exited;
  }
}

/** After the command exits, nothing it started may keep running in its group. */
export function reapGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already empty
  }
}
