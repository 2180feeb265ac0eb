import { HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

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
  const body = JSON.stringify(exception.toEnvelope());
  response.writeHead(exception.status, {
    ...exception.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
