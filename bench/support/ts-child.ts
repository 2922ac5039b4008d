import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Forks a TypeScript file of bench/support (run through tsx) with an IPC channel. */
export function forkTypeScript(
  file: URL,
  args: string[],
  nodeOptions: string[] = [],
): ChildProcess {
  return fork(fileURLToPath(file), args, {
    execArgv: ['--import', 'tsx', ...nodeOptions],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's next IPC message that passes `accept`; rejects if the child exits first. */
export function nextMessage<T>(child: ChildProcess, accept: (message: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (!accept(message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`the child process exited (${code}) before it answered`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Asks a child to stop with a message; kills it if it has not exited in `graceMs`. */
export async function stopChild(child: ChildProcess, message: string, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send(message);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
