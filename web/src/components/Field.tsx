import type { ReactNode } from 'react';

/** A labelled form control with its validation message (from the server) beside it. */
export function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' invalid' : ''}`} data-field={name}>
      <label htmlFor={`field-${name}`}>{label}</label>
      <div className="control">
        {children}
        {error ? (
          <div className="field-error" role="alert">
            {error}
          </div>
        ) : hint ? (
          <div className="hint">{hint}</div>
        ) : null}
      </div>
    </div>
  );
}
