import { useState } from 'react';
import { navigate } from '../lib/router';
import {
  deleteView,
  loadViews,
  MAX_VIEW_NAME,
  saveView,
  viewParams,
  type SavedView,
} from '../lib/saved-views';

/**
 * Named sets of the jobs table's filters, sort and page size, kept in this browser
 * (lib/saved-views.ts). Choosing one opens the jobs page on it; the view whose filters are
 * the current ones is shown as chosen.
 */
export function SavedViews({ params }: { params: URLSearchParams }) {
  const [views, setViews] = useState<SavedView[]>(loadViews);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const current = views.find((v) => v.params === viewParams(params));

  const save = () => {
    const problem = saveView(name, params);
    setError(problem);
    if (problem) return;
    setViews(loadViews());
    setNaming(false);
    setName('');
  };

  return (
    <div className="saved-views">
      <select
        aria-label="Saved views"
        value={current?.name ?? ''}
        onChange={(e) => {
          const view = views.find((v) => v.name === e.target.value);
          navigate('/jobs', new URLSearchParams(view?.params ?? ''), true);
        }}
      >
        <option value="">{views.length ? 'Saved views…' : 'No saved views'}</option>
        {views.map((v) => (
          <option key={v.name} value={v.name}>
            {v.name}
          </option>
        ))}
      </select>
      {current && (
        <button
          type="button"
          className="link"
          onClick={() => {
            deleteView(current.name);
            setViews(loadViews());
          }}
        >
          Delete view
        </button>
      )}
      {naming ? (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <input
            aria-label="View name"
            placeholder="Name of this view"
            maxLength={MAX_VIEW_NAME}
            value={name}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setNaming(false);
            }}
          />
          <button type="submit">Save</button>
          <button type="button" className="link" onClick={() => setNaming(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button
          type="button"
          onClick={() => {
            setName(current?.name ?? '');
            setNaming(true);
          }}
        >
          Save view
        </button>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
