import { useEffect } from 'react';

export const JOB_SHORTCUTS: Array<[string, string]> = [
  ['j / k', 'next / previous job'],
  ['x', 'select or unselect the current job'],
  ['Shift + click', 'select every job between the last one clicked and this one'],
  ['Enter', 'open the current job'],
  ['s', 'suspend the selected jobs (or the current one)'],
  ['r', 'resume the selected jobs (or the current one)'],
  ['/', 'search job names'],
  ['?', 'show or hide this list'],
  ['Esc', 'close this list'],
];

/** The keyboard shortcuts of the jobs page, opened with "?". */
export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, onClose]);
  if (!open) return null;
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        className="modal"
        role="dialog"
        aria-labelledby="shortcuts-title"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table className="shortcuts">
          <tbody>
            {JOB_SHORTCUTS.map(([key, what]) => (
              <tr key={key}>
                <td>
                  <kbd>{key}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
