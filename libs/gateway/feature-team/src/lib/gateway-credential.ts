import type { IncomingHttpHeaders } from 'node:http';
import { readBearerToken, readHeaderText } from '@openai-proxy/util-auth-headers';
import { claimsGatewayKey } from '@openai-proxy/gateway-util-team';

/** The header that carries a gateway key beside the client's own provider credentials (which then pass as sent). */
export const GATEWAY_KEY_HEADER = 'x-gateway-key';

/** The headers a provider credential may travel in, besides `Authorization`: each is also read for a gateway key. */
const KEY_HEADERS: readonly string[] = ['x-api-key', 'x-goog-api-key', 'api-key'];

/** Gemini's clients may send their key as `?key=`. */
const KEY_QUERY_PARAMETER = 'key';

/** Browsers cannot set headers on a WebSocket: OpenAI's Realtime clients send the key as this subprotocol. */
const KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';

function protocols(headers: IncomingHttpHeaders): string[] {
  const value = headers['sec-websocket-protocol'];
  return typeof value === 'string' ? value.split(',').map((protocol) => protocol.trim()) : [];
}

/** The key of a WebSocket upgrade's key subprotocol; none on any other request (the header means nothing there). */
function protocolKey(headers: IncomingHttpHeaders): string | undefined {
  if (headers.upgrade?.toLowerCase() !== 'websocket') {
    return undefined;
  }
  const protocol = protocols(headers).find((candidate) => candidate.startsWith(KEY_PROTOCOL_PREFIX));
  const key = protocol?.slice(KEY_PROTOCOL_PREFIX.length);
  return key === undefined || key === '' ? undefined : key;
}

/** Removes a key subprotocol from an upgrade request (the gateway key must not travel on); true when one was there. */
export function dropKeyProtocol(headers: IncomingHttpHeaders): boolean {
  const all = protocols(headers);
  const kept = all.filter((protocol) => !protocol.startsWith(KEY_PROTOCOL_PREFIX));
  if (kept.length === all.length) {
    return false;
  }
  if (kept.length === 0) {
    delete headers['sec-websocket-protocol'];
  } else {
    headers['sec-websocket-protocol'] = kept.join(', ');
  }
  return true;
}

/**
 * What a request authenticates with. `attach`: the gateway key stands where a provider key would, and the
 * gateway swaps in the provider key it holds. `identify`: it came in X-Gateway-Key, and the client's own
 * credentials (a claude.ai session, say) pass on as sent.
 */
export type RequestCredential =
  { kind: 'gateway'; key: string; use: 'attach' | 'identify' } | { kind: 'provider' } | { kind: 'none' };

/**
 * The credential in `Authorization`: its bearer token, else the value after any `Bearer` scheme, so that a gateway
 * key in a value that is no well-formed bearer token (`Bearer gk-with space`, no scheme at all) is still seen.
 */
function authorizationCredential(headers: IncomingHttpHeaders): string | undefined {
  const token = readBearerToken(headers);
  if (token !== undefined) {
    return token;
  }
  const rest = readHeaderText(headers, 'authorization')
    ?.replace(/^Bearer\s+/i, '')
    .trim();
  return rest === '' ? undefined : rest;
}

function queryKey(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) {
    return undefined;
  }
  const value = new URLSearchParams(url.slice(start + 1)).get(KEY_QUERY_PARAMETER);
  return value === null || value === '' ? undefined : value;
}

/**
 * Reads a request's credential: X-Gateway-Key first, then `Authorization: Bearer`, `x-api-key`, `x-goog-api-key`,
 * `api-key`, a configured provider key header, `?key=`, and a WebSocket's `openai-insecure-api-key.` subprotocol. A
 * credential there that starts with `gk-` is a gateway key, well formed or not (an ill-formed one is then refused,
 * never sent to a provider); any other is a provider's (a cookie alone counts as none: the web-session routes'
 * own business).
 */
export function readRequestCredential(
  headers: IncomingHttpHeaders,
  url: string,
  extraKeyHeaders: readonly string[] = [],
): RequestCredential {
  const explicit = readHeaderText(headers, GATEWAY_KEY_HEADER);
  if (explicit !== undefined) {
    return { kind: 'gateway', key: explicit, use: 'identify' };
  }
  const candidates = [
    authorizationCredential(headers),
    ...[...KEY_HEADERS, ...extraKeyHeaders].map((name) => readHeaderText(headers, name)),
    queryKey(url),
    protocolKey(headers),
  ].filter((value): value is string => value !== undefined);
  const gatewayKey = candidates.find(claimsGatewayKey);
  if (gatewayKey !== undefined) {
    return { kind: 'gateway', key: gatewayKey, use: 'attach' };
  }
  return candidates.length > 0 ? { kind: 'provider' } : { kind: 'none' };
}

/** The credential headers a request loses when the gateway attaches its own provider key. */
export function credentialHeaderNames(extraKeyHeaders: readonly string[] = []): readonly string[] {
  return ['authorization', ...KEY_HEADERS, ...extraKeyHeaders, GATEWAY_KEY_HEADER];
}

/** The path and query without `?key=` (a gateway key there must not travel on). */
export function withoutQueryKey(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) {
    return url;
  }
  const query = new URLSearchParams(url.slice(start + 1));
  if (!query.has(KEY_QUERY_PARAMETER)) {
    return url;
  }
  query.delete(KEY_QUERY_PARAMETER);
  const rest = query.toString();
  return rest === '' ? url.slice(0, start) : `${url.slice(0, start)}?${rest}`;
}
