import { HttpException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { withEdgeHeaders } from './edge-headers';

interface StatusError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
}

/** Nest's and body-parser's HTTP errors in our code space. */
function fromHttpStatus(status: number, message: string): GatewayException {
  switch (status) {
    case 400:
      return new GatewayException(ErrorCode.InvalidRequest, message);
    case 401:
      return new GatewayException(ErrorCode.MissingCredentials, message);
    case 404:
      return new GatewayException(ErrorCode.NotFound, message);
    case 405:
      return new GatewayException(ErrorCode.MethodNotAllowed, message);
    case 413:
      return new GatewayException(ErrorCode.PayloadTooLarge, 'Request body is too large');
    case 429:
      return new GatewayException(ErrorCode.RateLimited, message);
    default:
      return new GatewayException(ErrorCode.Internal, 'Internal error');
  }
}

/** Any thrown value as a GatewayException with a client-safe message. */
export function toGatewayException(error: unknown): GatewayException {
  if (error instanceof GatewayException) {
    return error;
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return fromHttpStatus(status, status === 404 ? 'Unknown route' : redactText(error.message));
  }
  const statusError = (typeof error === 'object' && error !== null ? error : {}) as StatusError;
  const status = typeof statusError.status === 'number' ? statusError.status : statusError.statusCode;
  if (statusError.type === 'entity.parse.failed') {
    return new GatewayException(ErrorCode.InvalidRequest, 'Request body is not valid JSON', { cause: error });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return fromHttpStatus(status, 'Invalid request');
  }
  return new GatewayException(ErrorCode.Internal, 'Internal error', { cause: error });
}

/** How much of a refused body we read and drop so the client can read our answer; past it we hang up. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * After an answer that came before the whole body (an upstream down, a body over the limit), the rest is
 * read and dropped, so a client that sends everything before it reads still gets the answer and the
 * connection is not left stalled; past the cap the connection is closed.
 */
function discardRestOfBody(request: IncomingMessage | undefined): void {
  if (request === undefined || request.complete || request.destroyed) {
    return;
  }
  request.unpipe();
  let seen = 0;
  request.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT_BYTES) {
      request.destroy();
    }
  });
  request.resume();
}

/**
 * Writes any error as an OpenAI error envelope with its status; after the headers went out it can only cut
 * the response. Internal errors are logged (redacted, never the raw object).
 */
export function sendErrorResponse(response: ServerResponse, error: unknown, logger: Logger): void {
  const exception = toGatewayException(error);
  if (exception.code === ErrorCode.Internal) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
    logger.error({ context: 'Errors' }, redactText(detail));
  }
  if (response.headersSent) {
    response.destroy();
    return;
  }
  discardRestOfBody((response as ServerResponse & { req?: IncomingMessage }).req);
  const body = JSON.stringify(exception.toEnvelope());
  response.writeHead(
    exception.status,
    withEdgeHeaders(response, {
      ...exception.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    }),
  );
  response.end(body);
}
