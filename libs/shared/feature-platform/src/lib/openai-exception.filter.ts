import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { Response } from 'express';

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
    const message = status === 404 ? 'Unknown route' : redactText(error.message);
    return fromHttpStatus(status, message);
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

/** The one error filter: every error leaves as an OpenAI error envelope with its status. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const exception = toGatewayException(error);
    if (exception.code === ErrorCode.Internal) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
      this.logger.error(redactText(detail));
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    for (const [name, value] of Object.entries(exception.headers)) {
      response.setHeader(name, value);
    }
    response.status(exception.status).json(exception.toEnvelope());
  }
}
