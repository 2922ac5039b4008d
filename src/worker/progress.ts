/*
 * Reads progress from a task's output. A job type may give its own regular expression
 * (definition.progressPattern) whose first group is a percentage; otherwise lines such as
 * `PROGRESS: 42`, `Progress: 42%` or `progress=42.5` are understood.
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
