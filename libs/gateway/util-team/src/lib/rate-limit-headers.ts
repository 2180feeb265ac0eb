import type { LimitWindow } from './team.types';

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;

/**
 * A duration as OpenAI writes its `x-ratelimit-reset-*` headers (Go's duration format): `20ms` under a second,
 * else hours, minutes and seconds with up to three decimals, such as `1s`, `6m0s`, `1m30.5s`, `1h0m0s`. A
 * fraction of a millisecond is rounded up, so a client never retries too early; nothing left is `0s`.
 */
export function openAiDuration(ms: number): string {
  const whole = Number.isFinite(ms) ? Math.max(0, Math.ceil(ms)) : 0;
  if (whole === 0) {
    return '0s';
  }
  if (whole < MS_PER_SECOND) {
    return `${whole}ms`;
  }
  const hours = Math.floor(whole / MS_PER_HOUR);
  const minutes = Math.floor((whole % MS_PER_HOUR) / MS_PER_MINUTE);
  const seconds = `${(whole % MS_PER_MINUTE) / MS_PER_SECOND}s`;
  if (hours > 0) {
    return `${hours}h${minutes}m${seconds}`;
  }
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

/** The three header names of one kind of limit. */
interface WindowHeaderNames {
  limit: string;
  remaining: string;
  reset: string;
}

const REQUEST_HEADERS: WindowHeaderNames = {
  limit: 'x-ratelimit-limit-requests',
  remaining: 'x-ratelimit-remaining-requests',
  reset: 'x-ratelimit-reset-requests',
};
const TOKEN_HEADERS: WindowHeaderNames = {
  limit: 'x-ratelimit-limit-tokens',
  remaining: 'x-ratelimit-remaining-tokens',
  reset: 'x-ratelimit-reset-tokens',
};

function setWindowHeaders(headers: Record<string, string>, names: WindowHeaderNames, window: LimitWindow): void {
  headers[names.limit] = String(Math.floor(window.limit));
  headers[names.remaining] = String(Math.max(0, Math.floor(window.remaining)));
  headers[names.reset] = openAiDuration(window.resetMs);
}

/**
 * OpenAI's rate-limit headers for a key's limits: `x-ratelimit-limit-`, `-remaining-` and `-reset-requests`, and
 * the same three for tokens, each set only for a limit the key has.
 */
export function rateLimitHeaders(
  requests: LimitWindow | undefined,
  tokens: LimitWindow | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (requests !== undefined) {
    setWindowHeaders(headers, REQUEST_HEADERS, requests);
  }
  if (tokens !== undefined) {
    setWindowHeaders(headers, TOKEN_HEADERS, tokens);
  }
  return headers;
}

/** `Retry-After` in whole seconds: the wait rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / MS_PER_SECOND)) : 1;
}
