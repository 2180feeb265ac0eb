import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException, errorCodeForUpstreamStatus } from '@openai-proxy/util-errors';

const CODES_BY_STATUS_NAME: Readonly<Record<string, ErrorCode>> = {
  INVALID_ARGUMENT: ErrorCode.InvalidRequest,
  FAILED_PRECONDITION: ErrorCode.InvalidRequest,
  UNAUTHENTICATED: ErrorCode.InvalidApiKey,
  PERMISSION_DENIED: ErrorCode.PermissionDenied,
  NOT_FOUND: ErrorCode.NotFound,
  RESOURCE_EXHAUSTED: ErrorCode.RateLimited,
  UNAVAILABLE: ErrorCode.UpstreamOverloaded,
  DEADLINE_EXCEEDED: ErrorCode.UpstreamTimeout,
  INTERNAL: ErrorCode.UpstreamServerError,
};

/** A Gemini error (`{"error":{"code","message","status"}}`) as our exception, with the matching status. */
export function toGatewayError(status: number, body: unknown, retryAfter: string | undefined): GatewayException {
  const error =
    typeof body === 'object' && body !== null
      ? (body as { error?: { message?: unknown; status?: unknown } }).error
      : undefined;
  const byName = typeof error?.status === 'string' ? CODES_BY_STATUS_NAME[error.status] : undefined;

  const message = typeof error?.message === 'string' ? error.message : `Gemini API answered ${status}`;
  return new GatewayException(byName ?? errorCodeForUpstreamStatus(status), redactText(message), {
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
}
