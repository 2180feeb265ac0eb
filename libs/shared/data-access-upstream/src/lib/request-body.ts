import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

export function payloadTooLarge(limitBytes: number): GatewayException {
  return new GatewayException(ErrorCode.PayloadTooLarge, `Request body is larger than ${limitBytes} bytes`);
}

/** Passes bytes through and fails with a 413 GatewayException once more than `limitBytes` went by. */
export class BodyLimitStream extends Transform {
  private seen = 0;

  constructor(private readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limitBytes) {
      callback(payloadTooLarge(this.limitBytes));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * While a request body is still arriving, an idle gap longer than `idleMs` closes the connection (a stalled
 * upload must not hold a socket and an upstream request forever). The budget ends with the body.
 */
export function watchUploadIdle(request: IncomingMessage, idleMs: number): void {
  if (idleMs <= 0 || request.complete) {
    return;
  }
  request.setTimeout(idleMs);
  request.once('end', () => request.setTimeout(0));
}

/** What can stop a whole-body read: the exchange's abort (client gone, shutdown at the drain cap). */
export interface ReadAbort {
  readonly aborted: boolean;
  once(event: 'abort', listener: () => void): unknown;
  off(event: 'abort', listener: () => void): unknown;
}

/**
 * Reads a request body whole; undefined when the request closes before its end (the client left, or its
 * upload stalled past the idle budget) or when `abort` fires first. For small bodies with a declared length.
 */
export function readWholeBody(request: IncomingMessage, abort: ReadAbort): Promise<Buffer | undefined> {
  if (request.destroyed || abort.aborted) {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
    };
    const finish = (body: Buffer | undefined): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onGone);
      request.off('error', onGone);
      abort.off('abort', onGone);
      resolve(body);
    };
    const onEnd = (): void => finish(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    const onGone = (): void => finish(undefined);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onGone);
    request.once('error', onGone);
    abort.once('abort', onGone);
  });
}

/**
 * Request bodies with a declared length up to this size are read whole before the upstream call (nginx's
 * request buffering, for small bodies only): the upstream gets headers and body in one write, a body that
 * an upstream refused was never half-sent, and a chat request costs no stream pipeline. Larger declared bodies
 * are streamed through a counting pipe; a body of unknown length is spooled (request-spool.ts), held in memory
 * up to this size too.
 */
export const WHOLE_BODY_MAX_BYTES = 64 * 1024;

/**
 * How a request's body goes upstream: not at all, read whole first, streamed (its declared length already
 * checked against the limit), or spooled first (chunked: its length is known only at its end, and a body over
 * the limit must be refused before any upstream contact).
 */
export type BodyHandling = 'none' | 'whole' | 'stream' | 'spool';

export function bodyHandling(request: IncomingMessage): BodyHandling {
  if (request.headers['transfer-encoding'] !== undefined) {
    return 'spool';
  }
  const length = request.headers['content-length'];
  if (length === undefined || length === '0') {
    return 'none';
  }
  return Number(length) <= WHOLE_BODY_MAX_BYTES ? 'whole' : 'stream';
}
