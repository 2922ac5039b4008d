import { Suspense, lazy, useEffect, useState } from 'react';
import { getToken, onUnauthenticated, setToken } from './api/client';
import { ThemeToggle } from './components/ThemeToggle';
import { href, useRoute } from './lib/router';
import { JobPage } from './pages/JobPage';
import { JobTypesPage } from './pages/JobTypesPage';
import { JobsPage } from './pages/JobsPage';
import { LimitsPage } from './pages/LimitsPage';
import { LoginPage } from './pages/LoginPage';
import { NodesPage } from './pages/NodesPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { OverviewPage } from './pages/OverviewPage';
import { PoolsPage } from './pages/PoolsPage';
import { SubmitPage } from './pages/SubmitPage';
import { UsagePage } from './pages/UsagePage';

// The template page brings a YAML parser: loaded when it is first opened, not with the app.
const SubmitTemplatePage = lazy(() =>
  import('./pages/SubmitTemplatePage').then((m) => ({ default: m.SubmitTemplatePage })),
);

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/jobs', label: 'Jobs' },
  { path: '/nodes', label: 'Nodes' },
  { path: '/usage', label: 'Usage' },
  { path: '/limits', label: 'Limits' },
  { path: '/pools', label: 'Pools' },
  { path: '/notifications', label: 'Notifications' },
  { path: '/job-types', label: 'Job types' },
  { path: '/submit', label: 'Submit' },
];

export function App() {
  const route = useRoute();
  const [loginReason, setLoginReason] = useState<string>();
  const [session, setSession] = useState(0);
  useEffect(
    () =>
      onUnauthenticated(() =>
        setLoginReason(
          getToken()
            ? 'Your token was refused (it may have been revoked).'
            : 'This server has authentication on.',
        ),
      ),
    [],
  );

  if (loginReason !== undefined) {
    return (
      <LoginPage
        reason={loginReason}
        onSignedIn={() => {
          setLoginReason(undefined);
          setSession((s) => s + 1);
        }}
      />
    );
  }

  const jobMatch = route.path.match(/^\/jobs\/(\d+)$/);
  let page: React.ReactNode;
  if (route.path === '/') page = <OverviewPage />;
  else if (route.path === '/jobs') page = <JobsPage route={route} />;
  else if (jobMatch) page = <JobPage key={jobMatch[1]} id={Number(jobMatch[1])} route={route} />;
  else if (route.path === '/nodes') page = <NodesPage />;
  else if (route.path === '/usage') page = <UsagePage />;
  else if (route.path === '/limits') page = <LimitsPage />;
  else if (route.path === '/pools') page = <PoolsPage />;
  else if (route.path === '/notifications') page = <NotificationsPage />;
  else if (route.path === '/job-types') page = <JobTypesPage route={route} />;
  else if (route.path === '/submit') page = <SubmitPage />;
  else if (route.path === '/submit-template') {
    page = (
      <Suspense fallback={<div className="page muted">Loading…</div>}>
        <SubmitTemplatePage />
      </Suspense>
    );
  } else {
    page = (
      <div className="page">
        <h1>Not found</h1>
        <p>
          There is no page at {route.path}. Go to the <a href={href('/jobs')}>jobs</a>.
        </p>
      </div>
    );
  }

  const first = route.path.split('/')[1] ?? '';
  const section = '/' + (first === 'submit-template' ? 'submit' : first);
  return (
    <div className="app" key={session}>
      <header className="top">
        <a className="brand" href={href('/')}>
          Drover
        </a>
        <nav>
          {NAV.map((n) => (
            <a key={n.path} href={href(n.path)} className={section === n.path ? 'on' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <ThemeToggle />
        <a href="/docs" className="muted" target="_blank" rel="noreferrer">
          API
        </a>
        {getToken() && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setToken(null);
              setLoginReason('You signed out.');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main>{page}</main>
    </div>
  );
}
