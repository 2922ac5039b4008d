import { useEffect, useState } from 'react';

/*
 * Routing by the URL's hash (#/jobs/12?tab=log). The server's own paths (/jobs is Scale's,
 * /v1 UFDL's) stay theirs, and a reload or a shared link always lands on the UI.
 */

export interface Route {
  path: string;
  params: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = hash.split('?');
  return { path, params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function href(path: string, params?: URLSearchParams | Record<string, string>): string {
  const search = params ? new URLSearchParams(params).toString() : '';
  return `#${path}${search ? `?${search}` : ''}`;
}

/** Goes to a page; `replace` keeps filter edits out of the back button's history. */
export function navigate(path: string, params?: URLSearchParams, replace = false): void {
  const target = href(path, params);
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}
