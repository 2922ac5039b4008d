import { useState } from 'react';
import { ApiError } from '../api/client';
import { api } from '../api/endpoints';
import { TASK_TIMEOUT_ACTIONS } from '../api/types';
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
import { href, navigate } from '../lib/router';
import { splitCommand } from '../lib/split-command';
import { TIMEOUT_ACTION_TEXT } from '../lib/timeout-actions';

type FieldName =
  | 'name'
  | 'command'
  | 'frames'
  | 'chunkSize'
  | 'priority'
  | 'pool'
  | 'taskTimeout'
  | 'taskTimeoutAction';

type ErrorField = FieldName | DependencyField;

/** The server names fields by their place in the request; the form has fewer of them. */
function formField(serverField: string | undefined): ErrorField | undefined {
  if (!serverField) return undefined;
  const dependency = DEPENDENCY_FIELDS.find((f) => serverField === f);
  if (dependency) return dependency;
  if (serverField.startsWith('parameters') || serverField === 'executable') return 'command';
  const known: FieldName[] = [
    'name',
    'frames',
    'chunkSize',
    'priority',
    'pool',
    'taskTimeout',
    'taskTimeoutAction',
  ];
  return known.find((f) => serverField === f);
}

/** A command-line job: the server validates it and answers next to the field at fault. */
export function SubmitPage() {
  const [values, setValues] = useState<Record<FieldName, string>>({
    name: '',
    command: '',
    frames: '',
    chunkSize: '1',
    priority: '50',
    pool: '',
    taskTimeout: '',
    taskTimeoutAction: 'FAIL',
  });
  const [deps, setDeps] = useState<DependencyValues>(EMPTY_DEPENDENCIES);
  const [errors, setErrors] = useState<Partial<Record<ErrorField, string>>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const set =
    (field: FieldName) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
      setValues((v) => ({ ...v, [field]: e.target.value }));
      setErrors((old) => ({ ...old, [field]: undefined }));
    };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    const { words, error } = splitCommand(values.command);
    if (error) {
      setErrors({ command: `The command has an open quote: ${error}.` });
      return;
    }
    const dependency = dependencyBody(deps);
    if ('error' in dependency) {
      setErrors({ [dependency.field]: dependency.error });
      return;
    }
    const [executable, ...args] = words;
    // Text that is not a number goes as is, so the server's message names the field.
    const number = (text: string) =>
      text.trim() === '' ? undefined : Number.isFinite(Number(text)) ? Number(text) : text;
    const body: Record<string, unknown> = {
      type: 'command-line',
      name: values.name.trim() || values.command.trim().slice(0, 200),
      // An empty command is sent as is: the server says what it needs.
      parameters: { executable: executable ?? '', ...(args.length ? { arguments: args } : {}) },
      ...(values.frames.trim() ? { frames: values.frames.trim() } : {}),
      ...(values.frames.trim() && number(values.chunkSize) !== undefined
        ? { chunkSize: number(values.chunkSize) }
        : {}),
      ...(number(values.priority) !== undefined ? { priority: number(values.priority) } : {}),
      ...(values.pool.trim() ? { pool: values.pool.trim() } : {}),
      ...(number(values.taskTimeout) !== undefined
        ? { taskTimeout: number(values.taskTimeout) }
        : {}),
      taskTimeoutAction: values.taskTimeoutAction,
      ...dependency.body,
    };
    setBusy(true);
    try {
      const job = await api.submit(body);
      navigate(`/jobs/${job.id}`);
    } catch (e) {
      const field = e instanceof ApiError ? formField(e.field) : undefined;
      if (field) setErrors({ [field]: describeError(e) });
      else setFormError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Submit a command-line job</h1>
      </div>
      <p className="muted">
        Or <a href={href('/submit-template')}>submit an Open Job Description template</a>.
      </p>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <Field
          label="Command"
          name="command"
          error={errors.command}
          hint="Runs without a shell. Frame tokens: {start}, {end}, {frames}; e.g. render -s {start} -e {end} scene.blend"
        >
          <input
            id="field-command"
            name="command"
            className="mono"
            value={values.command}
            onChange={set('command')}
            autoFocus
          />
        </Field>
        <Field label="Name" name="name" error={errors.name} hint="Defaults to the command">
          <input id="field-name" name="name" value={values.name} onChange={set('name')} />
        </Field>
        <Field
          label="Frames"
          name="frames"
          error={errors.frames}
          hint="A frame list such as 1-100, 1-100x5 or 1,3,7; empty for one task"
        >
          <input id="field-frames" name="frames" value={values.frames} onChange={set('frames')} />
        </Field>
        <Field label="Chunk size" name="chunkSize" error={errors.chunkSize} hint="Frames per task">
          <input
            id="field-chunkSize"
            name="chunkSize"
            inputMode="numeric"
            value={values.chunkSize}
            onChange={set('chunkSize')}
          />
        </Field>
        <Field label="Priority" name="priority" error={errors.priority} hint="Higher runs first">
          <input
            id="field-priority"
            name="priority"
            inputMode="numeric"
            value={values.priority}
            onChange={set('priority')}
          />
        </Field>
        <Field label="Pool" name="pool" error={errors.pool} hint="Empty: any node">
          <input id="field-pool" name="pool" value={values.pool} onChange={set('pool')} />
        </Field>
        <Field
          label="Task timeout"
          name="taskTimeout"
          error={errors.taskTimeout}
          hint="Seconds a task may run; 0: no limit; empty: the job type's default"
        >
          <input
            id="field-taskTimeout"
            name="taskTimeout"
            inputMode="numeric"
            value={values.taskTimeout}
            onChange={set('taskTimeout')}
          />
        </Field>
        <Field
          label="On timeout"
          name="taskTimeoutAction"
          error={errors.taskTimeoutAction}
          hint="What happens to a task that runs past its timeout"
        >
          <select
            id="field-taskTimeoutAction"
            name="taskTimeoutAction"
            value={values.taskTimeoutAction}
            onChange={set('taskTimeoutAction')}
          >
            {TASK_TIMEOUT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}: {TIMEOUT_ACTION_TEXT[a]}
              </option>
            ))}
          </select>
        </Field>
        <DependencyFields
          values={deps}
          errors={errors}
          onChange={(field, value) => {
            setDeps((d) => ({ ...d, [field]: value }));
            setErrors((old) => ({ ...old, [field]: undefined }));
          }}
          frameHint="Each task waits only for the tasks of its dependencies that cover its frames (Deadline's frame dependent)"
        />
        {formError && (
          <div className="error" role="alert">
            {formError}
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Submitting…' : 'Submit'}
          </button>
        </div>
      </form>
    </div>
  );
}
