import type { FormParameter } from '../lib/template-form';
import { Field } from './Field';

const OBJECT_TYPES: Record<string, string> = { FILE: 'a file', DIRECTORY: 'a directory' };
const DATA_FLOWS: Record<string, string> = {
  NONE: 'neither read nor written',
  IN: 'read by the job',
  OUT: 'written by the job',
  INOUT: 'read and written by the job',
};

/** What the help text adds to the description: bounds, and what a path is for. */
function hintOf(p: FormParameter): string {
  const parts: string[] = [];
  if (p.description) parts.push(p.description);
  const d = p.def;
  if (p.kind === 'number') {
    if (d.minValue !== undefined && d.maxValue !== undefined) {
      parts.push(`${d.minValue} to ${d.maxValue}`);
    } else if (d.minValue !== undefined) parts.push(`at least ${d.minValue}`);
    else if (d.maxValue !== undefined) parts.push(`at most ${d.maxValue}`);
  }
  if (d.type === 'PATH') {
    const what = [
      p.objectType ? (OBJECT_TYPES[p.objectType] ?? p.objectType) : 'a path',
      p.dataFlow ? (DATA_FLOWS[p.dataFlow] ?? p.dataFlow) : undefined,
    ].filter(Boolean);
    parts.push(`Path to ${what.join(', ')} on the workers`);
  }
  return parts.join(' · ');
}

/** One job parameter's control, chosen by its type and its userInterface. */
export function ParameterControl({
  parameter: p,
  value,
  error,
  onChange,
}: {
  parameter: FormParameter;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const name = `param-${p.def.name}`;
  const common = {
    id: `field-${name}`,
    name,
    'data-parameter': p.def.name,
    'data-type': p.def.type,
  };
  let control: React.ReactNode;
  switch (p.kind) {
    case 'dropdown':
      control = (
        <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
          {(p.def.allowedValues ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
      break;
    case 'checkbox':
      control = (
        <input
          {...common}
          type="checkbox"
          checked={value === p.checked}
          onChange={(e) => onChange((e.target.checked ? p.checked : p.unchecked) ?? '')}
        />
      );
      break;
    case 'multiline':
      control = <textarea {...common} value={value} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'number':
      control = (
        <input
          {...common}
          type="number"
          inputMode={p.def.type === 'INT' ? 'numeric' : 'decimal'}
          min={p.def.minValue}
          max={p.def.maxValue}
          step={p.step}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    default:
      control = (
        <input
          {...common}
          className={p.def.type === 'PATH' ? 'mono' : undefined}
          data-object-type={p.objectType}
          data-data-flow={p.dataFlow}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <Field label={p.label} name={name} error={error || undefined} hint={hintOf(p)}>
      {control}
    </Field>
  );
}
