import type { IncomingMessage } from 'node:http';
import { isAnthropicApiKey, readBearerToken, readHeaderText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** The client's Anthropic key or OAuth token: `x-api-key`, or `Authorization: Bearer` (what the current SDKs send). */
export function readAnthropicKey(request: Pick<IncomingMessage, 'headers'>): string | undefined {
  return readHeaderText(request.headers, 'x-api-key') ?? readBearerToken(request.headers);
}

export function requireAnthropicKey(request: Pick<IncomingMessage, 'headers'>): string {
  const key = readAnthropicKey(request);
  if (key === undefined) {
    throw new GatewayException(
      ErrorCode.MissingCredentials,
      'Missing Anthropic API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>"',
    );
  }
  return key;
}

/** An API key goes as `x-api-key`; anything else (an OAuth token) only works as `Authorization: Bearer`. */
function anthropicCredentialHeader(key: string): Record<string, string> {
  return isAnthropicApiKey(key) ? { 'x-api-key': key } : { authorization: `Bearer ${key}` };
}

/** The headers Anthropic needs, and nothing else the client sent (translating bridges use an allow-list). */
export function anthropicHeaders(
  request: Pick<IncomingMessage, 'headers'>,
  key: string,
  accept: string,
): Record<string, string> {
  const beta = readHeaderText(request.headers, 'anthropic-beta');
  return {
    ...anthropicCredentialHeader(key),
    'anthropic-version': readHeaderText(request.headers, 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
    ...(beta === undefined ? {} : { 'anthropic-beta': beta }),
    accept,
    'accept-encoding': 'identity',
  };
}
