/*
 * Saved views of the jobs table: a name for a set of filters, sort and page size (the part
 * of the URL after "#/jobs?"). They live in this browser's localStorage, not on the server:
 * keeping them per user there would need a table of its own.
 */

export interface SavedView {
  name: string;
  /** URL parameters, without offset: a view opens on its first page. */
  params: string;
}

const KEY = 'drover.jobViews';
export const MAX_VIEWS = 50;
export const MAX_VIEW_NAME = 60;

export function loadViews(): SavedView[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (v): v is SavedView =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as SavedView).name === 'string' &&
        typeof (v as SavedView).params === 'string',
    );
  } catch {
    return [];
  }
}

function store(views: SavedView[]): void {
  localStorage.setItem(KEY, JSON.stringify(views));
}

/** The parameters a view keeps: everything but the page it was on. */
export function viewParams(params: URLSearchParams): string {
  const kept = new URLSearchParams(params);
  kept.delete('offset');
  kept.sort();
  return kept.toString();
}

/** Saves (or replaces, by name) a view; an error message when it cannot. */
export function saveView(name: string, params: URLSearchParams): string | undefined {
  const trimmed = name.trim();
  if (!trimmed) return 'Type a name for the view.';
  if (trimmed.length > MAX_VIEW_NAME) return `Keep the name to ${MAX_VIEW_NAME} characters.`;
  const views = loadViews().filter((v) => v.name !== trimmed);
  if (views.length >= MAX_VIEWS) {
    return `There are already ${MAX_VIEWS} saved views: delete one first.`;
  }
  views.push({ name: trimmed, params: viewParams(params) });
  views.sort((a, b) => a.name.localeCompare(b.name));
  store(views);
  return undefined;
}

export function deleteView(name: string): void {
  store(loadViews().filter((v) => v.name !== name));
}
