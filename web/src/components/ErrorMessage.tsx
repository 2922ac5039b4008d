import { ApiError } from '../api/client';

/** What went wrong, in words that say what to do next. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) {
      return `Your token may not do this. ${error.message}. Sign in with a token of a user or admin.`;
    }
    if (error.status === 404)
      return `${error.message}. It may have been purged; go back to the list.`;
    if (error.status >= 500) {
      return `The server failed (${error.code}): ${error.message}. Retry; if it persists, check the server's log.`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{describeError(error)}</span>
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
