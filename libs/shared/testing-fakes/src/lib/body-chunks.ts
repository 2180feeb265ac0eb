import type { Readable } from 'node:stream';
import { DEFAULT_WAIT_MS } from './waiters';

/** What a client read from a body: its chunks as they were delivered, and the error that ended it (if any). */
export interface BodyChunks {
  chunks: Buffer[];
  error: Error | undefined;
}

/**
 * Reads a Node readable (an undici or node:http response body) to its end or its error, one chunk per `data`
 * event, so write boundaries the client saw stay visible. Bounded: past `timeoutMs` the body is destroyed and
 * the read ends with a timeout error.
 */
export function readChunks(body: Readable, timeoutMs = DEFAULT_WAIT_MS): Promise<BodyChunks> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ chunks, error });
      }
    };
    const timer = setTimeout(
      () => body.destroy(new Error(`Timed out after ${timeoutMs} ms reading the body`)),
      timeoutMs,
    );
    body.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    body.once('end', () => settle(undefined));
    body.once('error', settle);
    body.once('close', () => settle(new Error('The body closed before its end')));
  });
}
