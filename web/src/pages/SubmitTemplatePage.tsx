import { useMemo, useState } from 'react';
import { ApiError } from '../api/client';
import { api } from '../api/endpoints';
import {
  DEPENDENCY_FIELDS,
  DependencyFields,
  dependencyBody,
  EMPTY_DEPENDENCIES,
  type DependencyField,
  type DependencyValues,
} from '../components/DependencyFields';
import { describeError } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { ParameterControl } from '../components/ParameterControl';
import { href, navigate } from '../lib/router';
import {
  groupParameters,
  initialValue,
  templateForm,
  valueProblem,
  type FormParameter,
} from '../lib/template-form';

/** The server takes a template of at most 1 MiB (docs/openjd.md). */
const MAX_TEMPLATE_BYTES = 1024 * 1024;

/**
 * An Open Job Description template, pasted or read from a file, with a form generated from
 * its job parameters; it goes to POST /api/v1/jobs as the template and the values.
 */
export function SubmitTemplatePage() {
  const [text, setText] = useState('');
  const [edited, setEdited] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [priority, setPriority] = useState('50');
  const [pool, setPool] = useState('');
  const [deps, setDeps] = useState<DependencyValues>(EMPTY_DEPENDENCIES);
  const [depErrors, setDepErrors] = useState<Partial<Record<DependencyField, string>>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const form = useMemo(() => (text.trim() ? templateForm(text) : undefined), [text]);
  const params = form?.parameters ?? [];
  const valueOf = (p: FormParameter) => edited[p.def.name] ?? initialValue(p);
  const setValue = (p: FormParameter, value: string) => {
    setEdited((old) => ({ ...old, [p.def.name]: value }));
    setErrors((old) => ({ ...old, [p.def.name]: '' }));
    setFormError(undefined);
  };

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_TEMPLATE_BYTES) {
      setFormError(`${file.name} is larger than 1 MiB, the most the server takes.`);
      return;
    }
    setFormError(undefined);
    setText(await file.text());
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    const found: Record<string, string> = {};
    const values: Record<string, string> = {};
    for (const p of params) {
      // Hidden parameters keep their defaults: the server fills them in.
      if (p.kind === 'hidden') continue;
      const value = valueOf(p);
      const problem = valueProblem(p, value);
      if (problem) found[p.def.name] = `${p.label} ${problem}`;
      values[p.def.name] = value;
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      setFormError('Some values are refused; correct them and submit again.');
      return;
    }
    const dependency = dependencyBody(deps);
    if ('error' in dependency) {
      setDepErrors({ [dependency.field]: dependency.error });
      return;
    }
    const number = Number(priority);
    const body: Record<string, unknown> = {
      template: text,
      parameters: values,
      ...(priority.trim() ? { priority: Number.isFinite(number) ? number : priority } : {}),
      ...(pool.trim() ? { pool: pool.trim() } : {}),
      ...dependency.body,
    };
    setBusy(true);
    try {
      const job = await api.submit(body);
      navigate(`/jobs/${job.id}`);
    } catch (e) {
      const field =
        e instanceof ApiError ? DEPENDENCY_FIELDS.find((f) => f === e.field) : undefined;
      // The server lists every problem with the template, one per line: shown as it says it.
      if (field) setDepErrors({ [field]: describeError(e) });
      else setFormError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Submit an OpenJD template</h1>
      </div>
      <p className="muted">
        An{' '}
        <a href="https://github.com/OpenJobDescription/openjd-specifications">
          Open Job Description
        </a>{' '}
        job template (jobtemplate-2023-09), as JSON or YAML. Or{' '}
        <a href={href('/submit')}>submit a command-line job</a>.
      </p>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Template" name="template" hint="Paste it, or choose a file">
          <textarea
            id="field-template"
            name="template"
            className="template-text"
            value={text}
            spellCheck={false}
            onChange={(e) => setText(e.target.value)}
          />
          <input
            type="file"
            aria-label="Template file"
            accept=".yaml,.yml,.json,application/json,text/yaml"
            onChange={(e) => void readFile(e.target.files?.[0])}
          />
        </Field>
        {form && form.problems.length > 0 && (
          <div className="error" role="alert" data-testid="template-problems">
            <span>
              The template&apos;s parameters have problems:
              <ul>
                {form.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </span>
          </div>
        )}
        {form && (
          <div className="template-parameters" data-testid="template-parameters">
            <h3>Job parameters</h3>
            {params.length === 0 && <p className="muted">The template has no job parameters.</p>}
            {groupParameters(params).map((g, i) =>
              g.group === undefined ? (
                g.parameters.map((p) => (
                  <ParameterControl
                    key={p.def.name}
                    parameter={p}
                    value={valueOf(p)}
                    error={errors[p.def.name]}
                    onChange={(v) => setValue(p, v)}
                  />
                ))
              ) : (
                <fieldset key={`group-${i}`} className="param-group" data-group={g.group}>
                  <legend>{g.group}</legend>
                  {g.parameters.map((p) => (
                    <ParameterControl
                      key={p.def.name}
                      parameter={p}
                      value={valueOf(p)}
                      error={errors[p.def.name]}
                      onChange={(v) => setValue(p, v)}
                    />
                  ))}
                </fieldset>
              ),
            )}
          </div>
        )}
        <Field label="Priority" name="priority" hint="Higher runs first">
          <input
            id="field-priority"
            name="priority"
            inputMode="numeric"
            value={priority}
            onChange={(e) => setPriority(e.target.value)}
          />
        </Field>
        <Field label="Pool" name="pool" hint="Empty: any node">
          <input
            id="field-pool"
            name="pool"
            value={pool}
            onChange={(e) => setPool(e.target.value)}
          />
        </Field>
        <DependencyFields
          values={deps}
          errors={depErrors}
          onChange={(field, value) => {
            setDeps((d) => ({ ...d, [field]: value }));
            setDepErrors((old) => ({ ...old, [field]: undefined }));
          }}
          frameHint="A step waits only for the same frames of the steps it depends on (by its frame parameter), and the first steps for those of the jobs above"
        />
        {formError && (
          <div className="error template-error" role="alert">
            {formError}
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || !form}>
            {busy ? 'Submitting…' : 'Submit'}
          </button>
        </div>
      </form>
    </div>
  );
}
