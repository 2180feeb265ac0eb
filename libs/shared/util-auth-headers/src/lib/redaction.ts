import { SECRET_HEADER_NAMES } from './header-names';
import type { IncomingHeaders } from './forwarding';

export const REDACTED = '[REDACTED]';

/**
 * Credential shapes, wherever they appear in text: OpenAI and Anthropic keys and session keys, Google cookies
 * and API keys, bearer tokens, and `key=` in URLs.
 */
const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  /\bBearer\s+[^\s,;"']+/gi,
  /\bsk-[A-Za-z0-9_-]{3,}/g,
  /\bsess-[A-Za-z0-9_-]{3,}/g,
  /\bgk-[A-Za-z0-9_-]{3,}/g,
  /__Secure-[0-9A-Za-z]+=[^;\s,"']+/g,
  /\bsessionKey=[^;\s,"']+/g,
  /\bAIza[0-9A-Za-z_-]{10,}/g,
  /([?&](?:key|api_key|api-key|access_token)=)[^&\s#"']+/gi,
];

/** Replaces every credential-shaped substring of a text. */
export function redactText(text: string): string {
  let result = text;
  for (const pattern of SECRET_VALUE_PATTERNS) {
    result = result.replace(pattern, (match: string, prefix?: unknown) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return result;
}

/** A copy of the headers with credential headers replaced and every other value scrubbed by pattern. */
export function redactHeaders(headers: IncomingHeaders): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) {
      continue;
    }
    if (SECRET_HEADER_NAMES.has(name.toLowerCase())) {
      result[name] = REDACTED;
    } else {
      result[name] = Array.isArray(value) ? value.map(redactText) : redactText(value);
    }
  }
  return result;
}
