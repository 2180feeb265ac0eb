import { createOpenAiErrorEnvelope, type OpenAiErrorEnvelope } from '@openai-proxy/util-openai-schema';
import { describeErrorCode, type ErrorCode } from './error-code';

export interface GatewayExceptionOptions {
  /** The request field at fault, reported as the envelope's `param`. */
  param?: string;
  /** The original error: kept for logs, never sent to a client. */
  cause?: unknown;
  /** Extra response headers, such as `Retry-After`. */
  headers?: Record<string, string>;
}

/** The one exception type of the gateway: a code, a client-safe message, and optional param and headers. */
export class GatewayException extends Error {
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: GatewayExceptionOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayException';
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return describeErrorCode(this.code).status;
  }

  toEnvelope(): OpenAiErrorEnvelope {
    return createOpenAiErrorEnvelope(this.message, describeErrorCode(this.code).type, this.code, this.param);
  }
}
