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
  let arrived: RecordedRequest;
  try {
    arrived = await upstream.waitForRequest(arrivedAs);
  } finally {
    // Leaves whether or not the upstream got its call, so a failed wait leaves no request open.
    client.abort();
    await pending;
  }
  await upstream.waitForClose(arrived, closeWithinMs);
  return arrived;
}

/** How long a client reads a stream for what it waits for before it leaves anyway. */
export const READ_WITHIN_MS = 5_000;

/**
 * Sends `sent` to `baseUrl` and reads the streamed answer until `seen` holds for the text read so far, then
 * leaves (aborts); resolves with that text. Bounded: the client leaves after `withinMs` whatever it read.
 */
export async function leaveOnceSeen(
  baseUrl: string,
  sent: LeavingRequest,
  seen: (text: string) => boolean,
  withinMs = READ_WITHIN_MS,
): Promise<string> {
  const client = new AbortController();
  const deadline = setTimeout(() => client.abort(), withinMs);
  try {
    const response = await fetch(`${baseUrl}${sent.path}`, {
      method: sent.method,
      headers: sent.headers,
      ...(sent.body === undefined ? {} : { body: sent.body }),
      signal: client.signal,
    });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (reader !== undefined && !seen(text)) {
      const read = await reader.read();
      if (read.done) {
        break;
      }
      text += decoder.decode(read.value as Uint8Array, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(deadline);
    client.abort();
  }
}
