/*
 * OpenJD format strings (2023-09 §7.3): `{{ Param.Frame }}` is replaced by the value of the
 * dotted name. Without the EXPR extension an interpolation holds exactly one value
 * reference. Parsing is separate from resolving so that a template is checked once at
 * submission (every reference must name a value in scope where the string stands), and the
 * worker resolves the same strings later with the values only it knows (Session.*,
 * Task.File.*). Pure: the worker imports this module.
 */

export class FormatStringError extends Error {
  override name = 'FormatStringError';
}

export type Piece = { text: string } | { ref: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Splits a format string into literal text and value references. */
export function parseFormatString(value: string): Piece[] {
  const pieces: Piece[] = [];
  let at = 0;
  while (at < value.length) {
    const open = value.indexOf('{{', at);
    if (open === -1) {
      pieces.push({ text: value.slice(at) });
      break;
    }
    if (open > at) pieces.push({ text: value.slice(at, open) });
    const close = value.indexOf('}}', open + 2);
    if (close === -1) {
      throw new FormatStringError(`"{{" at character ${open} is never closed by "}}"`);
    }
    const ref = value.slice(open + 2, close).trim();
    if (!NAME.test(ref)) {
      throw new FormatStringError(
        `"{{${value.slice(open + 2, close)}}}" is not a value reference such as {{Param.Name}}`,
      );
    }
    pieces.push({ ref });
    at = close + 2;
  }
  return pieces;
}

/** The value references a format string makes. */
export const referencesOf = (value: string): string[] =>
  parseFormatString(value).flatMap((p) => ('ref' in p ? [p.ref] : []));

/**
 * Replaces each reference by its value; values are not scanned again, so a parameter value
 * holding braces stays as given.
 */
export function resolveFormatString(value: string, symbols: ReadonlyMap<string, string>): string {
  return parseFormatString(value)
    .map((p) => {
      if ('text' in p) return p.text;
      const v = symbols.get(p.ref);
      if (v === undefined) throw new FormatStringError(`no value for {{${p.ref}}}`);
      return v;
    })
    .join('');
}
