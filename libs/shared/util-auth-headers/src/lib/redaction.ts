import { isSecretHeaderName } from './header-names';
import type { IncomingHeaders } from './forwarding';

export const REDACTED = '[REDACTED]';

/** Not preceded by a letter or digit (a word start that also works after `%20`, `=`, `:` or `/`). */
const START = '(?<![A-Za-z0-9])';

/**
 * Credential shapes, wherever they appear in text: OpenAI and Anthropic keys and session keys, gateway keys,
 * Google cookies and API keys, bearer and basic tokens, URL user info, and credential query parameters.
 */
const SECRET_VALUE_PATTERNS: readonly RegExp[] = [
  new RegExp(`${START}(?:Bearer|Basic)\\s+[^\\s,;"']+`, 'gi'),
  new RegExp(`${START}(?:sk|sess|gk)-[A-Za-z0-9_-]{3,}`, 'g'),
  /__Secure-[0-9A-Za-z]+=[^;\s,"']+/g,
  /\bsessionKey=[^;\s,"'&]+/g,
  new RegExp(`${START}AIza[0-9A-Za-z_-]{10,}`, 'g'),
  /(\/\/)[^/\s:@]+:[^/\s@]+@/g,
  // A credential parameter of a query (`?`, `&`) or of a path segment (`;`): a credential word, alone or as the
  // last part of a longer name (`x-api-key`, `x-goog-api-key`, `user_token`, `client_secret`, `x-auth-token`).
  /([?&;](?:[A-Za-z0-9]+[_-])*(?:key|api[_-]?key|token|auth|authorization|bearer|session_?key|password|passwd|secret)=)["']*[^&\s#"']+/gi,
];

/** Percent-decodes what decodes (a credential can hide as `sk%2D…`); leaves broken escapes as they are. */
function decodePercents(text: string): string {
  if (!text.includes('%')) {
    return text;
  }
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escaped) => {
    try {
      return decodeURIComponent(escaped);
    } catch {
      return escaped;
    }
  });
}

function replaceSecrets(text: string): string {
  let result = text;
  for (const pattern of SECRET_VALUE_PATTERNS) {
    result = result.replace(pattern, (match: string, prefix?: unknown) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return result;
}

/**
 * Replaces every credential-shaped substring of a text: once as written (so an escaped `%26` cannot split a
 * query value), then percent-decoded (so a key cannot hide as `sk%2D…`).
 */
export function redactText(text: string): string {
  const result = replaceSecrets(text);
  return result.includes('%') ? replaceSecrets(decodePercents(result)) : result;
}

/** Whether a text holds anything credential-shaped: what redactText would change. */
export function looksLikeCredential(text: string): boolean {
  return redactText(text) !== text;
}

/**
 * A copy of the headers with credential headers (isSecretHeaderName, with the `configured` secret names)
 * replaced and every other value scrubbed by pattern.
 */
export function redactHeaders(
  headers: IncomingHeaders,
  configured?: ReadonlySet<string>,
): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) {
      continue;
    }
    if (isSecretHeaderName(name, configured)) {
      result[name] = REDACTED;
    } else {
      result[name] = Array.isArray(value) ? value.map(redactText) : redactText(value);
    }
  }
  return result;
}
