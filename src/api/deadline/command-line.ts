import { badRequest } from './errors.js';
import { asString, keyed } from './values.js';

/*
 * Deadline's CommandLine plugin runs PluginInfo `Executable` with the `Arguments` string,
 * whose frame tokens are filled per task. Drover's built-in command-line job type takes an
 * executable and an argument array with its own tokens, so the string is split here (as a
 * POSIX shell splits words: blanks separate, quotes group, no expansion) and the tokens
 * are translated. <QUOTE> is a literal double quote, applied before splitting as Deadline
 * does. A padded token <STARTFRAME%4> becomes {start:04}.
 */

export const COMMAND_LINE_PLUGIN = 'CommandLine';
export const COMMAND_LINE_TYPE = 'command-line';

const TOKENS: Array<[RegExp, (pad?: string) => string]> = [
  [/<STARTFRAME(?:%(\d+))?>/gi, (pad) => (pad ? `{start:0${Number(pad)}}` : '{start}')],
  [/<ENDFRAME(?:%(\d+))?>/gi, (pad) => (pad ? `{end:0${Number(pad)}}` : '{end}')],
];

export function translateTokens(argument: string): string {
  let out = argument;
  for (const [pattern, replace] of TOKENS) {
    out = out.replace(pattern, (_m, pad: string | undefined) => replace(pad));
  }
  return out;
}

/** Drover's tokens written back as Deadline's, for jobs shown through this face. */
export function untranslateTokens(argument: string): string {
  return argument
    .replace(/\{start(?::0(\d+))?\}/g, (_m, pad: string | undefined) =>
      pad ? `<STARTFRAME%${pad}>` : '<STARTFRAME>',
    )
    .replace(/\{end(?::0(\d+))?\}/g, (_m, pad: string | undefined) =>
      pad ? `<ENDFRAME%${pad}>` : '<ENDFRAME>',
    );
}

/** Splits an argument string into words; an unclosed quote is an error. */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < text.length) word += text[++i];
    else word += c;
  }
  if (quote) throw badRequest(`PluginInfo Arguments has an unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** The command-line job type's parameters for a CommandLine PluginInfo. */
export function commandLineParameters(pluginInfo: Record<string, unknown>): {
  executable: string;
  arguments: string[];
} {
  const get = keyed(pluginInfo);
  const executable = asString(get('Executable'))?.trim();
  if (!executable) {
    throw badRequest('the CommandLine plugin needs PluginInfo Executable');
  }
  const text = (asString(get('Arguments')) ?? '').replace(/<QUOTE>/gi, '"');
  return { executable, arguments: splitArguments(text).map(translateTokens) };
}

/** Quotes a word back for an Arguments string when it needs it. */
export function joinArguments(words: readonly string[]): string {
  return words
    .map((w) => (w === '' || /[\s"'\\]/.test(w) ? `"${w.replace(/(["\\])/g, '\\$1')}"` : w))
    .join(' ');
}
