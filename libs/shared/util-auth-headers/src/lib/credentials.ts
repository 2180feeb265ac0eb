import type { IncomingHeaders } from './forwarding';

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A header's value when it is one non-empty text, or undefined (absent, empty, or a list of values). */
export function readHeaderText(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function readBearerToken(headers: IncomingHeaders): string | undefined {
  const value = firstValue(headers['authorization']);
  if (value === undefined) {
    return undefined;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/**
 * An Anthropic API key (`sk-ant-api…`). Anything else (an OAuth token `sk-ant-oat…`, as Claude Code sends) is
 * only accepted by Anthropic as `Authorization: Bearer`.
 */
export function isAnthropicApiKey(token: string): boolean {
  return token.startsWith('sk-ant-api');
}

/**
 * A Google API key (`AIza…`). Google's own routes take it only as `x-goog-api-key` (or `?key=`); an OAuth access
 * token (`ya29.…`) goes as `Authorization: Bearer`.
 */
export function isGoogleApiKey(token: string): boolean {
  return token.startsWith('AIza');
}

/** One cookie's value from a `Cookie` header, or undefined. */
export function readCookie(headers: IncomingHeaders, name: string): string | undefined {
  const value = headers['cookie'];
  const joined = Array.isArray(value) ? value.join('; ') : value;
  if (joined === undefined) {
    return undefined;
  }
  for (const part of joined.split(/[;,]/)) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}
