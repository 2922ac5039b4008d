import assert from 'node:assert/strict';

/*
 * A strict reader of Prometheus's text exposition format (0.0.4), for tests: every sample
 * belongs to a family announced by HELP and TYPE, names and labels are well formed, a
 * histogram's buckets rise to +Inf and +Inf equals its count. Beyond the format, what
 * promtool's lint asks: a counter's name ends in _total, no series appears twice, and a
 * family's samples all carry the same label names. Throws on the first fault.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  let current: Family | undefined;
  for (const [n, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${n + 1}: ${line}`;
    if (line.startsWith('# HELP ')) {
      const [, name, ...rest] = line.split(' ').slice(1);
      assert.match(name ?? '', NAME, where);
      assert.ok(!help.has(name!), `HELP twice for ${name}`);
      help.set(name!, rest.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.split(' ').slice(2);
      assert.match(name ?? '', NAME, where);
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!), where);
      assert.ok(!families.has(name!), `TYPE twice for ${name}: a family must be contiguous`);
      assert.ok(help.has(name!), `HELP before TYPE for ${name}`);
      current = { name: name!, type: type as Family['type'], help: help.get(name!)!, samples: [] };
      families.set(name!, current);
      continue;
    }
    assert.ok(!line.startsWith('#') && line.trim() !== '', `unexpected ${where}`);
    const sample = parseSample(line, where);
    assert.ok(current, `a sample before any TYPE: ${where}`);
    const base =
      current.type === 'histogram' ? sample.name.replace(/_(bucket|sum|count)$/, '') : sample.name;
    assert.equal(base, current.name, `a sample outside its family: ${where}`);
    current.samples.push(sample);
  }
  for (const family of families.values()) {
    checkFamily(family);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
  assert.ok(m, `not a sample: ${where}`);
  const labels: Record<string, string> = {};
  let rest = m[3] ?? '';
  while (rest.length > 0) {
    const l = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(rest);
    assert.ok(l, `bad labels: ${where}`);
    assert.match(l[1]!, LABEL, where);
    assert.ok(!(l[1]! in labels), `label ${l[1]} twice: ${where}`);
    labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    rest = rest.slice(l[0].length);
  }
  const raw = m[4]!;
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
  assert.ok(raw === 'NaN' || !Number.isNaN(value), `bad value: ${where}`);
  return { name: m[1]!, labels, value };
}

function checkFamily(family: Family): void {
  if (family.type === 'counter') {
    assert.match(family.name, /_total$/, `counter ${family.name} must end in _total`);
  }
  const seen = new Set<string>();
  let names: string | undefined;
  for (const s of family.samples) {
    const sorted = Object.keys(s.labels).sort();
    const key = `${s.name}${JSON.stringify(sorted.map((k) => [k, s.labels[k]]))}`;
    assert.ok(!seen.has(key), `${family.name}: the series ${key} appears twice`);
    seen.add(key);
    // A histogram's _sum and _count lack `le`; compare the names without it.
    const these = JSON.stringify(sorted.filter((k) => k !== 'le'));
    names ??= these;
    assert.equal(these, names, `${family.name}: samples with different label names`);
  }
}

/** Per series (labels but `le`): buckets in rising `le`, counts not falling, +Inf = count. */
function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      assert.ok(le !== undefined, `${family.name}: a bucket without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
    else entry.sum = s.value;
  }
  for (const [key, { buckets, count, sum }] of series) {
    const what = `${family.name}${key}`;
    assert.ok(buckets.length > 0 && count !== undefined && sum !== undefined, `${what} incomplete`);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i]![0] > buckets[i - 1]![0], `${what}: le not rising`);
      assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${what}: a bucket count falls`);
    }
    assert.equal(buckets.at(-1)![0], Infinity, `${what}: no +Inf bucket`);
    assert.equal(buckets.at(-1)![1], count, `${what}: +Inf differs from _count`);
  }
}
