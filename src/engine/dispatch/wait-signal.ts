/**
 * What a waiting claim reads of its caller's signal: whether it fired, and a listener for
 * when it does. An AbortSignal is one; the API's claims pass a lighter one (api/wait-signal.ts).
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
