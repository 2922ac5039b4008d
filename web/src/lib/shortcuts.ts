import { useEffect, useRef } from 'react';

/*
 * Single-key shortcuts for a page. They are ignored while a field has the focus (so typing
 * "j" in a search box types it) and when a modifier is held (so the browser's own stay).
 */

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) {
    // A row's box keeps the focus after a click; j and k must still move.
    return !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
  }
  return target.isContentEditable || ['SELECT', 'TEXTAREA'].includes(target.tagName);
}

export function useShortcuts(keys: Record<string, () => void>): void {
  const current = useRef(keys);
  current.current = keys;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      // A modal dialog (a confirmation) takes the keyboard while it is open.
      if (document.querySelector('[aria-modal="true"], [role="menu"]')) return;
      const action = current.current[e.key];
      if (!action) return;
      e.preventDefault();
      action();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
