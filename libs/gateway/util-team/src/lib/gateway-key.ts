import { hash, randomBytes } from 'node:crypto';

/** Every gateway key starts so; what follows is 43 URL-safe characters (32 random bytes). */
export const GATEWAY_KEY_PREFIX = 'gk-';

const RANDOM_BYTES = 32;
/** A key as `newGatewayKey` makes it: the prefix, then 32 bytes in unpadded base64url (43 characters). */
const WELL_FORMED_KEY = /^gk-[A-Za-z0-9_-]{43}$/;
/** How many of a key's first characters are kept in plain text, so a person can tell keys apart. */
const SHOWN_PREFIX_LENGTH = 8;

/** A new gateway key (shown once at creation, never stored). */
export function newGatewayKey(): string {
  return `${GATEWAY_KEY_PREFIX}${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

/**
 * True for a credential that claims to be a gateway key: it starts with `gk-`. Such a credential is never a
 * provider's, whatever follows the prefix: it is checked as a gateway key (an ill-formed one matches no stored
 * digest and is refused), never sent on to a provider.
 */
export function claimsGatewayKey(text: string): boolean {
  return text.startsWith(GATEWAY_KEY_PREFIX);
}

/**
 * True for a credential shaped as every gateway key is made (`gk-` and 43 base64url characters). One that is not
 * can match no stored key, so it is refused without a database lookup (unknown keys are never cached, and a
 * flood of made-up keys would otherwise be a flood of queries).
 */
export function isWellFormedGatewayKey(text: string): boolean {
  return WELL_FORMED_KEY.test(text);
}

/** What is stored for a key: its SHA-256, lowercase hex. A key has 256 random bits, so no salt or slow hash is needed. */
export function gatewayKeyDigest(key: string): string {
  // The one-shot form (a string is hashed as UTF-8): a third of createHash's cost, paid on every request.
  return hash('sha256', key, 'hex');
}

/** The key's first characters as listed (`gk-AbCdE`). */
export function gatewayKeyPrefix(key: string): string {
  return key.slice(0, SHOWN_PREFIX_LENGTH);
}

/** A new key id: `key_` and 16 random URL-safe characters. */
export function newKeyId(): string {
  return `key_${randomBytes(12).toString('base64url')}`;
}
