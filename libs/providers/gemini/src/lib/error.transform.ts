import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

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

const CODES_BY_HTTP_STATUS: ReadonlyArray<[number, ErrorCode]> = [
  [400, ErrorCode.InvalidRequest],
  [401, ErrorCode.InvalidApiKey],
  [403, ErrorCode.PermissionDenied],
  [404, ErrorCode.NotFound],
  [429, ErrorCode.RateLimited],
  [503, ErrorCode.UpstreamOverloaded],
  [504, ErrorCode.UpstreamTimeout],
];

/** A Gemini error (`{"error":{"code","message","status"}}`) as our exception, with the matching status. */
export function toGatewayError(status: number, body: unknown, retryAfter: string | undefined): GatewayException {
  const error =
    typeof body === 'object' && body !== null
      ? (body as { error?: { message?: unknown; status?: unknown } }).error
      : undefined;
  const byName = typeof error?.status === 'string' ? CODES_BY_STATUS_NAME[error.status] : undefined;
  const byStatus = CODES_BY_HTTP_STATUS.find(([candidate]) => candidate === status)?.[1];
  const message = typeof error?.message === 'string' ? error.message : `Gemini API answered ${status}`;
  return new GatewayException(byName ?? byStatus ?? ErrorCode.UpstreamServerError, redactText(message), {
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
}
