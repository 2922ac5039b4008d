import { useEffect, useRef } from 'react';

export interface Confirmation {
  title: string;
  body: string;
  /** Names of what the action touches; the first few are listed. */
  names: string[];
  confirmLabel: string;
  onConfirm: () => void;
}

const LISTED = 5;

/**
 * A modal question before an action that cannot be taken back. Escape or "Go back" closes
 * it; focus starts on "Go back" so that a stray Enter does nothing harmful.
 */
export function ConfirmDialog({
  confirmation,
  onClose,
}: {
  confirmation: Confirmation | undefined;
  onClose: () => void;
}) {
  const back = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!confirmation) return;
    back.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [confirmation, onClose]);
  if (!confirmation) return null;
  const { title, body, names, confirmLabel, onConfirm } = confirmation;
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="confirm-title">{title}</h2>
        <p>{body}</p>
        <ul className="confirm-names">
          {names.slice(0, LISTED).map((name, i) => (
            <li key={i}>{name}</li>
          ))}
          {names.length > LISTED && (
            <li className="muted">and {(names.length - LISTED).toLocaleString()} more</li>
          )}
        </ul>
        <div className="modal-buttons">
          <button type="button" ref={back} onClick={onClose}>
            Go back
          </button>
          <button
            type="button"
            className="danger primary"
            onClick={() => {
              onClose();
              onConfirm();
            }}
          >
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
