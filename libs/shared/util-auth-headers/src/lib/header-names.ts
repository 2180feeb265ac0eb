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
  // Azure OpenAI's key header.
  'api-key',
  // The gateway key beside the client's own provider credentials (team mode).
  'x-gateway-key',
  'x-auth-token',
  'cookie',
  'set-cookie',
]);

/**
 * Names with a credential word as one of their parts (`x-access-token`, `x-amz-security-token`,
 * `x-client-secret`, `x-session-key`), for the headers nobody listed yet. A part must be the whole word:
 * `x-ratelimit-remaining-tokens` is a count, not a credential.
 */
const SECRET_HEADER_NAME_PATTERN =
  /(?:^|[-_])(?:token|secret|password|passwd|credentials?|auth|apikey|api[-_]key|session[-_]?key)(?:$|[-_])/;

const NO_CONFIGURED_NAMES: ReadonlySet<string> = new Set();

/**
 * Whether a header's value is a credential, by its name (any case): a known name, a name with a credential
 * word, or one of `configured` (lower-case names a deployment declared as carrying keys, such as a provider's
 * `key_header`, whatever they are called).
 */
export function isSecretHeaderName(name: string, configured: ReadonlySet<string> = NO_CONFIGURED_NAMES): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADER_NAMES.has(lower) || configured.has(lower) || SECRET_HEADER_NAME_PATTERN.test(lower);
}
