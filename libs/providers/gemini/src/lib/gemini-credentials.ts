import type { IncomingMessage } from 'node:http';
import { isGoogleApiKey, readBearerToken, readHeaderText } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

function clientApiKeyHeader(request: Pick<IncomingMessage, 'headers'>): string | undefined {
  return readHeaderText(request.headers, 'x-goog-api-key');
}

/**
 * For the transparent relay: an API key sent as `Authorization: Bearer` (what OpenAI-style clients do) moves to
 * `x-goog-api-key`, since Google's own routes take a Bearer only as an OAuth access token. An OAuth token
 * (`ya29.…`), or a request that already has `x-goog-api-key`, is left as sent.
 */
export function moveBearerApiKey(request: IncomingMessage): void {
  const bearer = readBearerToken(request.headers);
  if (clientApiKeyHeader(request) === undefined && bearer !== undefined && isGoogleApiKey(bearer)) {
    request.headers['x-goog-api-key'] = bearer;
    delete request.headers.authorization;
  }
}

/**
 * For the translating routes: the client's credential (`x-goog-api-key`, or `Authorization: Bearer` with an API
 * key or an OAuth access token) in the one header Google takes it in; never in a URL.
 */
export function geminiCredentialHeaders(request: Pick<IncomingMessage, 'headers'>): Record<string, string> {
  const apiKey = clientApiKeyHeader(request);
  if (apiKey !== undefined) {
    return { 'x-goog-api-key': apiKey };
  }
  const bearer = readBearerToken(request.headers);
  if (bearer === undefined) {
    throw new GatewayException(
      ErrorCode.MissingCredentials,
      'Missing Gemini API key: send it as "Authorization: Bearer <key>" or "x-goog-api-key: <key>"',
    );
  }
  return isGoogleApiKey(bearer) ? { 'x-goog-api-key': bearer } : { authorization: `Bearer ${bearer}` };
}
