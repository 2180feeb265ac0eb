/** Hop-by-hop headers (RFC 9110 7.6.1) plus the proxy ones: never forwarded in either direction. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Answered by our own server (100 Continue); undici refuses to send it.
  'expect',
  // Pseudo-header some clients leak from HTTP/2.
  'http2-settings',
]);

/** Headers our own services use among themselves; a client cannot set them and no upstream receives them. */
export const INTERNAL_HEADER_PREFIX = 'x-openai-proxy-';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Headers whose values are credentials: redacted wherever headers are logged. */
export const SECRET_HEADER_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);
