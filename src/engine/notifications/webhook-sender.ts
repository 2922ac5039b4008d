import { createHmac } from 'node:crypto';
import { SIGNATURE_HEADER } from '../../domain/notifications.js';

/** `sha256=` and the hex HMAC-SHA256 of the exact body bytes, keyed by the rule's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs one notification. Resolves on a 2xx; anything else (another status, a refused
 * connection, no answer within `timeoutMs`) rejects with a reason fit for last_error.
 */
export async function postWebhook(
  url: string,
  secret: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Drover-Notifications',
        [SIGNATURE_HEADER]: signBody(secret, body),
        ...headers,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause ?? (error as Error).message);
    throw new Error(`POST ${url}: ${reason}`, { cause: error });
  }
  // The body is not wanted; reading it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`POST ${url}: answered ${response.status}`);
  }
}
