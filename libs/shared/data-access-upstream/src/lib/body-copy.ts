import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** An upstream body's error after its copy has settled has nobody left to tell. */
function ignoreLateError(): void {
  return undefined;
}

/** What a body copy does with each chunk, a source error, and its end. */
export interface BodyCopyHooks {
  /** Writes a chunk; false pauses the source until the response drains. */
  write(chunk: Buffer): boolean;
  /** The source ended: ends the response (with a frame of ours when the body was cut short). */
  onEnd(): void;
  /** The source failed (the response is not ended by the copy then). */
  onError(error: unknown): void;
  /** Runs once, when the source ended, failed or closed, before the promise resolves. */
  onSettled(): void;
}

/**
 * Copies `source` into `response` with backpressure; `onEnd` ends the response when the source ends. Resolves once
 * the source ended, failed or closed; its listeners come off then: the upstream body may outlive the exchange
 * inside the HTTP client (until its connection's next response) and must not keep this response and its
 * socket state alive (measured: half of the bytes promoted to the old generation per request).
 */
export function copyBody(source: Readable, response: ServerResponse, hooks: BodyCopyHooks): Promise<void> {
  return new Promise((resolve) => {
    const onDrain = (): void => {
      source.resume();
    };
    const onData = (chunk: Buffer): void => {
      if (!hooks.write(chunk)) {
        source.pause();
      }
    };
    const onEnd = (): void => {
      hooks.onEnd();
      settle();
    };
    const onFailure = (error: unknown): void => {
      hooks.onError(error);
      settle();
    };
    const settle = (): void => {
      response.off('drain', onDrain);
      source.off('data', onData).off('end', onEnd).off('error', onFailure).off('close', settle);
      source.on('error', ignoreLateError);
      hooks.onSettled();
      resolve();
    };
    response.on('drain', onDrain);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onFailure);
    source.once('close', settle);
  });
}
