import { useState } from 'react';
import { applyTheme, savedTheme, THEMES, type Theme } from '../lib/theme';

const LABELS: Record<Theme, string> = {
  auto: 'Theme: system',
  light: 'Theme: light',
  dark: 'Theme: dark',
};

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(savedTheme);
  return (
    <select
      className="theme-toggle"
      aria-label="Theme"
      value={theme}
      onChange={(e) => {
        const next = e.target.value as Theme;
        applyTheme(next);
        setTheme(next);
      }}
    >
      {THEMES.map((t) => (
        <option key={t} value={t}>
          {LABELS[t]}
        </option>
      ))}
    </select>
  );
}
