/*
 * A task's progress: read from its output, and sent to the server. A job type may give its
 * own regular expression (definition.progressPattern) whose first group is a percentage;
 * otherwise lines such as `PROGRESS: 42`, `Progress: 42%` or `progress=42.5` are
 * understood.
 */

export const DEFAULT_PROGRESS_PATTERN = /\bprogress\s*[:=]?\s*(\d+(?:\.\d+)?)\s*%?/i;

export type ProgressReader = (line: string) => number | undefined;

export function progressReader(pattern?: string): ProgressReader {
  let regex = DEFAULT_PROGRESS_PATTERN;
  if (pattern) {
    try {
      regex = new RegExp(pattern);
    } catch {
      // The server checks patterns when a type is defined; a bad one falls back to the default.
    }
  }
  return (line) => {
    const match = regex.exec(line);
    if (!match?.[1]) return undefined;
    const value = Number(match[1].replace(',', '.'));
    if (!Number.isFinite(value)) return undefined;
    return Math.min(100, Math.max(0, value));
  };
}

/**
 * Sends the latest value (a progress, a status message), one request at a time; values set
 * meanwhile are skipped but the last. 409s are handled by whoever sees them.
 */
export class ProgressReporter<T = number> {
  private latest: T | undefined;
  private sent: T | undefined;
  private sending: Promise<void> | undefined;

  constructor(private readonly send: (value: T) => Promise<unknown>) {}

  set(value: T): void {
    this.latest = value;
    this.sending ??= this.loop().finally(() => (this.sending = undefined));
  }

  async idle(): Promise<void> {
    await this.sending;
  }

  private async loop(): Promise<void> {
    while (this.latest !== undefined && this.latest !== this.sent) {
      const value = this.latest;
      try {
        await this.send(value);
      } catch {
        return;
      }
      this.sent = value;
    }
  }
}
