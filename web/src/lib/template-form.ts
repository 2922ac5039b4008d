import YAML from 'yaml';
import {
  checkParameterDefinition,
  checkValue,
  type JobParameterDefinition,
} from '../../../src/formats/openjd/job-parameters';
import { Problems, isRecord } from '../../../src/formats/openjd/template-problems';

/*
 * The form of an OpenJD template's job parameters (jobtemplate-2023-09 parameterDefinitions
 * and their userInterface). The definitions are checked and the values validated by the
 * server's own code (src/formats/openjd/job-parameters.ts), so the browser refuses what the
 * server would, with the same words; the server checks everything again on submission.
 */

export type ControlKind =
  'text' | 'multiline' | 'number' | 'dropdown' | 'checkbox' | 'path' | 'hidden';

export interface FormParameter {
  def: JobParameterDefinition;
  kind: ControlKind;
  label: string;
  group: string | undefined;
  description: string | undefined;
  /** INT/FLOAT: the spin box's step. */
  step: number | 'any' | undefined;
  /** CHECK_BOX: the allowed value that means checked, and the one that does not. */
  checked?: string;
  unchecked?: string;
  /** PATH: what the path names and which way data flows through it. */
  objectType: string | undefined;
  dataFlow: string | undefined;
  /** PATH: the chooser the template asks for (CHOOSE_INPUT_FILE, …). */
  chooser: string | undefined;
}

export interface TemplateForm {
  parameters: FormParameter[];
  /** Problems with the definitions, as the server would list them. */
  problems: string[];
}

const TRUTHY = new Set(['true', 'yes', 'on', '1']);
const FALSY = new Set(['false', 'no', 'off', '0']);

function kindOf(def: JobParameterDefinition, control: string | undefined): ControlKind {
  if (control === 'HIDDEN') return 'hidden';
  if (control === 'CHECK_BOX') return 'checkbox';
  if (control === 'DROPDOWN_LIST' || def.allowedValues) return 'dropdown';
  if (def.type === 'INT' || def.type === 'FLOAT') return 'number';
  if (def.type === 'PATH') return 'path';
  return control === 'MULTILINE_EDIT' ? 'multiline' : 'text';
}

/** Reads a template (JSON or YAML text) into the form of its job parameters. */
export function templateForm(text: string): TemplateForm {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    return { parameters: [], problems: [`Not JSON or YAML: ${String(e)}`] };
  }
  if (!isRecord(doc)) {
    return { parameters: [], problems: ['The template must be an object'] };
  }
  const problems = new Problems();
  const raw = doc.parameterDefinitions;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : undefined;
  if (!list) problems.add('parameterDefinitions', 'must be a list');
  const parameters: FormParameter[] = [];
  (list ?? []).forEach((item, i) => {
    const def = checkParameterDefinition(problems, `parameterDefinitions[${i}]`, item);
    if (!def || !isRecord(item)) return;
    const ui = isRecord(item.userInterface) ? item.userInterface : {};
    const control = typeof ui.control === 'string' ? ui.control : undefined;
    const kind = kindOf(def, control);
    const p: FormParameter = {
      def,
      kind,
      label: typeof ui.label === 'string' ? ui.label : def.name,
      group: typeof ui.groupLabel === 'string' ? ui.groupLabel : undefined,
      description: typeof item.description === 'string' ? item.description : undefined,
      step:
        typeof ui.singleStepDelta === 'number'
          ? ui.singleStepDelta
          : def.type === 'INT'
            ? 1
            : 'any',
      objectType: typeof item.objectType === 'string' ? item.objectType : undefined,
      dataFlow: typeof item.dataFlow === 'string' ? item.dataFlow : undefined,
      chooser: def.type === 'PATH' && control?.startsWith('CHOOSE_') ? control : undefined,
    };
    if (kind === 'checkbox') {
      const allowed = def.allowedValues ?? [];
      const on = allowed.find((v) => TRUTHY.has(v.toLowerCase()));
      const off = allowed.find((v) => FALSY.has(v.toLowerCase()));
      if (allowed.length !== 2 || on === undefined || off === undefined) {
        problems.add(
          `parameterDefinitions[${i}].userInterface.control`,
          'CHECK_BOX needs two allowedValues, one true and one false (true/false, yes/no, on/off, 1/0)',
        );
        return;
      }
      p.checked = on;
      p.unchecked = off;
    }
    parameters.push(p);
  });
  return {
    parameters,
    problems: problems.list.map((p) => `${p.path}: ${p.message}`),
  };
}

/** The value a control starts with: the default, else nothing (an unchecked box is false). */
export function initialValue(p: FormParameter): string {
  if (p.def.default !== undefined) return p.def.default;
  if (p.kind === 'checkbox') return p.unchecked ?? '';
  if (p.kind === 'dropdown') return p.def.allowedValues?.[0] ?? '';
  return '';
}

/** Why a value is refused, as the server would say it; undefined when it is good. */
export function valueProblem(p: FormParameter, value: string): string | undefined {
  if (value.trim() === '' && (p.def.type === 'INT' || p.def.type === 'FLOAT')) {
    return 'needs a value';
  }
  const checked = checkValue(p.def, value);
  return 'error' in checked ? checked.error : undefined;
}

/** The fields in template order, each group together where its first member stands. */
export function groupParameters(
  parameters: FormParameter[],
): { group: string | undefined; parameters: FormParameter[] }[] {
  const out: { group: string | undefined; parameters: FormParameter[] }[] = [];
  for (const p of parameters) {
    if (p.kind === 'hidden') continue;
    const existing = p.group === undefined ? undefined : out.find((g) => g.group === p.group);
    if (existing) existing.parameters.push(p);
    else out.push({ group: p.group, parameters: [p] });
  }
  return out;
}
