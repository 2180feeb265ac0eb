import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

const CODES_BY_STATUS: ReadonlyArray<[number, ErrorCode]> = [
  [400, ErrorCode.InvalidRequest],
  [401, ErrorCode.InvalidApiKey],
  [403, ErrorCode.PermissionDenied],
  [404, ErrorCode.NotFound],
  [413, ErrorCode.PayloadTooLarge],
  [429, ErrorCode.RateLimited],
];

/** A claude.ai refusal (`{"error":{"type","message"}}` and a status) as our exception, status kept. */
export function claudeWebError(status: number, body: unknown, retryAfter: string | undefined): GatewayException {
  const error =
    typeof body === 'object' && body !== null ? (body as { error?: { message?: unknown } }).error : undefined;
  const message = typeof error?.message === 'string' ? error.message : `claude.ai answered ${status}`;
  const code = CODES_BY_STATUS.find(([candidate]) => candidate === status)?.[1] ?? ErrorCode.UpstreamServerError;
  return new GatewayException(code, redactText(message), {
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
}

export function missingSessionKey(where: 'cookie' | 'bearer'): GatewayException {
  return new GatewayException(
    ErrorCode.MissingCredentials,
    where === 'cookie'
      ? 'Missing claude.ai session key: send it as "Cookie: sessionKey=<key>"'
      : 'Missing claude.ai session key: send it as "Authorization: Bearer <sessionKey>"',
  );
}
