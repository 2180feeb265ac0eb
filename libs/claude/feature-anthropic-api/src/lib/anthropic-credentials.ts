import type { IncomingMessage } from 'node:http';
import { isAnthropicApiKey, readBearerToken } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** The client's Anthropic key or OAuth token: `x-api-key`, or `Authorization: Bearer` (what the current SDKs send). */
export function readAnthropicKey(request: IncomingMessage): string | undefined {
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : readBearerToken(request.headers);
}

export function requireAnthropicKey(request: IncomingMessage): string {
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
export function anthropicHeaders(request: IncomingMessage, key: string, accept: string): Record<string, string> {
  const version = request.headers['anthropic-version'];
  const beta = request.headers['anthropic-beta'];
  return {
    ...anthropicCredentialHeader(key),
    'anthropic-version': typeof version === 'string' && version !== '' ? version : DEFAULT_ANTHROPIC_VERSION,
    ...(typeof beta === 'string' && beta !== '' ? { 'anthropic-beta': beta } : {}),
    accept,
    'accept-encoding': 'identity',
  };
}
