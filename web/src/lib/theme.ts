/*
 * Light or dark: "auto" (the default) follows the system's prefers-color-scheme through
 * the stylesheet's media query; "light" and "dark" pin it with <html data-theme>. The
 * choice is kept in this browser's local storage.
 */

export const THEMES = ['auto', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const KEY = 'drover.theme';

export function savedTheme(): Theme {
  const value = localStorage.getItem(KEY);
  return (THEMES as readonly string[]).includes(value ?? '') ? (value as Theme) : 'auto';
}

export function applyTheme(theme: Theme): void {
  if (theme === 'auto') {
    delete document.documentElement.dataset['theme'];
    localStorage.removeItem(KEY);
  } else {
    document.documentElement.dataset['theme'] = theme;
    localStorage.setItem(KEY, theme);
  }
}
