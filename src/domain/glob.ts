/*
 * Glob patterns over '/'-separated relative names, as a Seed manifest's output `pattern`:
 * `*` and `?` stay within one path segment, `**` spans any number of segments (`a/**\/b`
 * also matches `a/b`), `[…]` is a character class; anything else matches itself.
 */

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const atStart = i === 0 || pattern[i - 1] === '/';
      i++;
      if (atStart && pattern[i + 1] === '/') {
        source += '(?:[^/]*/)*';
        i++;
      } else source += '.*';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`);
  if (cache.size >= 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}

export function matchesGlob(name: string, pattern: string): boolean {
  return globToRegExp(pattern).test(name);
}
