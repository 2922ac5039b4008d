import { InvalidArgumentError, Option, type Command } from 'commander';
import { ApiClient, CliError } from './api-client.js';

/*
 * What every client command shares: --server, --token and --json, the client built from
 * them, and one way to report errors (`drover: <message>`, exit status from the error).
 */

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export interface CommonFlags {
  server: string;
  token: string | undefined;
  json: boolean;
}

/** Adds the shared options to a command and returns it. */
export function withClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--server <url>',
        `Drover server URL, or host:port for http (default ${DEFAULT_SERVER})`,
      ).env('DROVER_SERVER'),
    )
    .addOption(new Option('--token <token>', 'API token').env('DROVER_TOKEN'))
    .option('--json', 'print JSON for scripts');
}

/**
 * The shared options as given to this command or, for subcommands such as `nodes enable`,
 * to its parent (commander may hand an option after the subcommand name to either).
 */
export function commonFlags(command: Command): CommonFlags {
  const pick = (name: string): unknown => {
    for (let c: Command | null = command; c; c = c.parent) {
      const value = c.getOptionValue(name) as unknown;
      if (value !== undefined) return value;
    }
    return undefined;
  };
  return {
    server: (pick('server') as string | undefined) ?? DEFAULT_SERVER,
    token: pick('token') as string | undefined,
    json: pick('json') === true,
  };
}

export function clientOf(flags: CommonFlags): ApiClient {
  return new ApiClient({ server: flags.server, token: flags.token });
}

export const out = (text: string): void => {
  process.stdout.write(text);
};
export const err = (text: string): void => {
  process.stderr.write(text);
};

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Wraps an action: a CliError (including the server's 4xx messages) is printed as
 * `drover: <message>` and sets the exit status; anything else is a bug and propagates.
 */
export function action<A extends unknown[]>(
  run: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const status = await run(...args);
      if (typeof status === 'number' && status !== 0) process.exitCode = status;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      err(`drover: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  };
}

/** A positive integer id from the command line, or a clear error. */
export function parseId(text: string, what = 'job'): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new CliError(`"${text}" is not a ${what} id (a positive whole number)`);
  }
  return Number(text);
}

/** `1,2 3` → [1, 2, 3] */
export function parseIds(texts: readonly string[], what = 'job'): number[] {
  return texts
    .flatMap((t) => t.split(','))
    .filter((t) => t.trim() !== '')
    .map((t) => parseId(t, what));
}

export function parseInteger(name: string, min = Number.MIN_SAFE_INTEGER) {
  return (text: string): number => {
    if (!/^-?\d+$/.test(text.trim()) || Number(text) < min) {
      throw new CliError(
        `${name} must be a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}, not "${text}"`,
      );
    }
    return Number(text);
  };
}

export function parseNumber(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new CliError(`${name} must be a number of seconds, not "${text}"`);
    }
    return n;
  };
}

/** `a,b c` → ['a', 'b', 'c'] */
export const commaList = (text: string, previous: string[] = []): string[] => [
  ...previous,
  ...text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/** Wraps a value parser so commander reports bad values as its own option errors. */
export function optionParser<T>(parse: (text: string) => T) {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      if (error instanceof CliError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

const SPAN_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3600, m: 60, s: 1 };

/**
 * A timeout in whole seconds: `90` (seconds), `45m`, `2h`, `1h30m`, `1d12h`; `0` or `none`
 * for no timeout.
 */
export function parseSeconds(name: string) {
  return (text: string): number => {
    const t = text.trim().toLowerCase();
    if (t === 'none' || /^\d+$/.test(t)) return t === 'none' ? 0 : Number(t);
    if (/^(\d+[wdhms])+$/.test(t)) {
      let seconds = 0;
      for (const [, n, unit] of t.matchAll(/(\d+)([wdhms])/g)) {
        seconds += Number(n) * SPAN_SECONDS[unit!]!;
      }
      return seconds;
    }
    throw new CliError(
      `${name} must be seconds (90) or a span such as 45m, 2h or 1h30m (0 or none: no timeout), not "${text}"`,
    );
  };
}
