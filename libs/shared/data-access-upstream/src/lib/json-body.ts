import type { IncomingMessage } from 'node:http';
import { ErrorCode, GatewayException, parseJsonText } from '@openai-proxy/util-errors';
import { payloadTooLarge } from './request-body';

function notJson(): GatewayException {
  return new GatewayException(ErrorCode.InvalidRequest, 'Request body is not valid JSON');
}

/** The body's bytes, refused with 413 once more than `limitBytes` arrived (or were declared). */
export function readLimitedBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > limitBytes) {
    return Promise.reject(payloadTooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        done();
        reject(payloadTooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onGone = (): void => {
      done();
      reject(new GatewayException(ErrorCode.InvalidRequest, 'The request body did not arrive whole'));
    };
    const done = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onGone);
      request.off('error', onGone);
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onGone);
    request.once('error', onGone);
  });
}

/**
 * A JSON request body (a translating route's), read whatever the Content-Type says (`curl -d '{…}'` sends form
 * encoding), limited to `limitBytes` (413 over it, before any upstream contact); an empty body reads as `{}`
 * and anything that is not an object or an array as malformed (400), as Express's JSON parser did.
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const text = (await readLimitedBody(request, limitBytes)).toString('utf8');
  if (text.trim() === '') {
    return {};
  }
  const value = parseJsonText(text);
  if (typeof value !== 'object' || value === null) {
    throw notJson();
  }
  return value;
}
