import { createHash, randomBytes } from 'node:crypto';

/** Every gateway key starts so; what follows is 43 URL-safe characters (32 random bytes). */
export const GATEWAY_KEY_PREFIX = 'gk-';

const RANDOM_BYTES = 32;
/** The shortest key we accept: the prefix and at least 32 URL-safe characters. */
const GATEWAY_KEY_PATTERN = /^gk-[A-Za-z0-9_-]{32,}$/;
/** How many of a key's first characters are kept in plain text, so a person can tell keys apart. */
const SHOWN_PREFIX_LENGTH = 8;

/** A new gateway key (shown once at creation, never stored). */
export function newGatewayKey(): string {
  return `${GATEWAY_KEY_PREFIX}${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

/** True for text shaped like a gateway key (whether such a key exists is the store's business). */
export function isGatewayKeyShaped(text: string): boolean {
  return GATEWAY_KEY_PATTERN.test(text);
}

/** What is stored for a key: its SHA-256, lowercase hex. A key has 256 random bits, so no salt or slow hash is needed. */
export function gatewayKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key's first characters as listed (`gk-AbCdE`). */
export function gatewayKeyPrefix(key: string): string {
  return key.slice(0, SHOWN_PREFIX_LENGTH);
}

/** A new key id: `key_` and 16 random URL-safe characters. */
export function newKeyId(): string {
  return `key_${randomBytes(12).toString('base64url')}`;
}
