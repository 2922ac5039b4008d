import { useState } from 'react';
import { ApiError, setToken } from '../api/client';
import { api } from '../api/endpoints';
import { describeError } from '../components/ErrorMessage';

/** Asks for an API token (the server has auth on) and keeps it once the server accepts it. */
export function LoginPage({ reason, onSignedIn }: { reason?: string; onSignedIn: () => void }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (!token.trim()) {
      setError('Paste a token; an admin creates one with `drover token create --user NAME`.');
      return;
    }
    setBusy(true);
    setToken(token.trim());
    try {
      await api.counts();
      onSignedIn();
    } catch (e) {
      setToken(null);
      setError(
        e instanceof ApiError && e.status === 401
          ? 'The server does not know this token. Check that it was copied whole, or create a new one with `drover token create --user NAME`.'
          : describeError(e),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="card" onSubmit={(e) => void submit(e)}>
        <h1>Sign in to Drover</h1>
        <p className="muted">
          {reason ?? 'This server needs a token.'} Tokens come from{' '}
          <code>drover token create --user NAME</code>.
        </p>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setValue(e.target.value)}
          autoFocus
        />
        {error && (
          <div className="error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}
