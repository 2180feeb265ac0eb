import type { IncomingHttpHeaders } from 'node:http';
import { readCookie } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type { BardCookies } from './bard-session.types';

/** Bard's web endpoints answer browsers: every call (page and answer) introduces itself as one. */
const BROWSER_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

function present(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** The two cookies from the client's Cookie header; a 401 naming the missing ones (never their values). */
export function bardCookies(headers: IncomingHttpHeaders): BardCookies {
  const psid = readCookie(headers, '__Secure-1PSID');
  const psidts = readCookie(headers, '__Secure-1PSIDTS');
  if (!present(psid) || !present(psidts)) {
    const missing = [present(psid) ? '' : '__Secure-1PSID', present(psidts) ? '' : '__Secure-1PSIDTS'].filter(Boolean);
    throw new GatewayException(
      ErrorCode.MissingCredentials,
      `Missing Bard cookie(s): ${missing.join(', ')} (send them in the Cookie header)`,
    );
  }
  return { psid, psidts };
}

/**
 * The headers of a call to Bard (the page or StreamGenerate): the cookies joined by "; ", a browser's agent, and
 * `Accept-Encoding: identity`, since the answer is read as it comes and never decompressed.
 */
export function bardHeaders(cookies: BardCookies, accept: string): Record<string, string> {
  return {
    cookie: `__Secure-1PSID=${cookies.psid}; __Secure-1PSIDTS=${cookies.psidts}`,
    'user-agent': BROWSER_USER_AGENT,
    accept,
    'accept-encoding': 'identity',
  };
}
