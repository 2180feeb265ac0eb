import type { FakeUpstream, RecordedRequest } from './fake-upstream';

/** A request a client sends and then abandons. */
export interface LeavingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** How soon the upstream must see its request closed once the client left. */
export const CLOSE_WITHIN_MS = 1_000;

/**
 * Sends `sent` to `baseUrl`, waits until the (stalled) `upstream` got its call, then leaves; resolves with that
 * upstream request once its connection closed (rejects when it stays open past `closeWithinMs`).
 */
export async function leaveWhileStalled(
  baseUrl: string,
  upstream: FakeUpstream,
  sent: LeavingRequest,
  arrivedAs: (arrived: RecordedRequest) => boolean,
  closeWithinMs = CLOSE_WITHIN_MS,
): Promise<RecordedRequest> {
  const client = new AbortController();
  const pending = fetch(`${baseUrl}${sent.path}`, {
    method: sent.method,
    headers: sent.headers,
    ...(sent.body === undefined ? {} : { body: sent.body }),
    signal: client.signal,
  }).catch(() => undefined);
  const arrived = await upstream.waitForRequest(arrivedAs);
  client.abort();
  await pending;
  await upstream.waitForClose(arrived, closeWithinMs);
  return arrived;
}
