import { redactText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException, errorCodeForUpstreamStatus } from '@openai-proxy/util-errors';

/** A claude.ai refusal (`{"error":{"type","message"}}` and a status) as our exception, status kept. */
export function claudeWebError(status: number, body: unknown, retryAfter: string | undefined): GatewayException {
  const error =
    typeof body === 'object' && body !== null ? (body as { error?: { message?: unknown } }).error : undefined;
  const message = typeof error?.message === 'string' ? error.message : `claude.ai answered ${status}`;
  return new GatewayException(errorCodeForUpstreamStatus(status), redactText(message), {
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
