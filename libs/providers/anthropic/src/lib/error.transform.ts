import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException, errorCodeForUpstreamStatus } from '@openai-proxy/util-errors';

/** Anthropic error type → our code (and so the OpenAI status and type); 529 overloaded → 503. */
const CODES_BY_TYPE: Readonly<Record<string, ErrorCode>> = {
  invalid_request_error: ErrorCode.InvalidRequest,
  authentication_error: ErrorCode.InvalidApiKey,
  // 402: the account behind the key cannot pay (OpenAI says the same as 429 insufficient_quota).
  billing_error: ErrorCode.InsufficientQuota,
  permission_error: ErrorCode.PermissionDenied,
  not_found_error: ErrorCode.NotFound,
  request_too_large: ErrorCode.PayloadTooLarge,
  rate_limit_error: ErrorCode.RateLimited,
  api_error: ErrorCode.UpstreamServerError,
  overloaded_error: ErrorCode.UpstreamOverloaded,
  timeout_error: ErrorCode.UpstreamTimeout,
};

function readError(body: unknown): { type?: string; message?: string } {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) {
    return {};
  }
  const { type, message } = error as { type?: unknown; message?: unknown };
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/** An Anthropic error (status and `{type:"error",error:{type,message}}`, or an error event) as our exception. */
export function toGatewayError(status: number | undefined, body: unknown, retryAfter?: string): GatewayException {
  const { type, message } = readError(body);
  const byType = type === undefined ? undefined : CODES_BY_TYPE[type];
  const code = byType ?? errorCodeForUpstreamStatus(status);
  return new GatewayException(code, redactText(message ?? `Anthropic API answered ${status ?? 'with an error'}`), {
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
}
