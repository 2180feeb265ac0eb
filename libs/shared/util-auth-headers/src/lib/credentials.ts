import type { IncomingHeaders } from './forwarding';

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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
