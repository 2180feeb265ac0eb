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

/** The reason Gemini gives for a bad API key, in its error's `details` (its status is INVALID_ARGUMENT, 400). */
const API_KEY_INVALID = 'API_KEY_INVALID';

interface GeminiErrorBody {
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

/** Whether the error's `details` give the reason API_KEY_INVALID: the key, not the request, is at fault. */
function namesInvalidKey(error: GeminiErrorBody | undefined): boolean {
  return (
    Array.isArray(error?.details) &&
    error.details.some(
      (detail: unknown) =>
        typeof detail === 'object' && detail !== null && (detail as { reason?: unknown }).reason === API_KEY_INVALID,
    )
  );
}

/**
 * A Gemini error (`{"error":{"code","message","status","details"}}`) as our exception, with the matching status. A
 * bad API key, which Gemini answers 400 INVALID_ARGUMENT with the reason API_KEY_INVALID, is a 401
 * `invalid_api_key`, as on OpenAI: SDKs then raise their authentication error, and a gateway's key pool rests the
 * key.
 */
export function toGatewayError(status: number, body: unknown, retryAfter: string | undefined): GatewayException {
  const error = typeof body === 'object' && body !== null ? (body as { error?: GeminiErrorBody }).error : undefined;
  const byName = typeof error?.status === 'string' ? CODES_BY_STATUS_NAME[error.status] : undefined;
  const code = namesInvalidKey(error) ? ErrorCode.InvalidApiKey : (byName ?? errorCodeForUpstreamStatus(status));
  const message = typeof error?.message === 'string' ? error.message : `Gemini API answered ${status}`;
  return new GatewayException(code, redactText(message), {
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
}
