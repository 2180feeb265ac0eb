/**
 * The retry decision of every upstream call, in one place (the one retry layer: undici itself never retries).
 *
 * A call is tried again only before anything went to the client, only when its request can be sent again (no
 * body, or a body held whole: a streamed client body never is), and only for a failure that says nothing about
 * the request itself:
 * - a connection error before the answer's headers: refused, reset, closed under us (the keep-alive race), a host
 *   or network out of reach, a connect timeout. Nothing was answered, so nothing reached the client;
 * - a provider's 429 or 5xx. Never 400, 401, 403, 404, 413 or any other status: the same request gets the same
 *   answer. One of our own services answers with its provider's status, already retried there, so statuses are
 *   retried on provider hops only;
 * - never a headers timeout: the upstream may be working on a slow, paid request, and a retry would double it.
 * Each retry waits a jittered, growing backoff, at least the `Retry-After` asked for; an answer asking to wait
 * longer than RETRY_AFTER_MAX_WAIT_MS goes to the client as it came. Retries are paid out of a budget per
 * upstream (RetryBudget), so an upstream that fails completely gets at most ~20% more attempts, not 3x.
 */

/** Why an upstream call was tried again, as `upstream_retries_total{reason}` counts it. */
export type RetryReason = 'connection' | 'status_429' | 'status_5xx' | 'key_failover' | 'model_fallback';

/**
 * An internal request header (the relays drop `x-openai-proxy-*` before the provider) by which the gateway says
 * it fails over between provider keys itself: the service answers this request's 429 and 5xx as they come, so
 * that a refused key costs one attempt, not one per retry layer.
 */
export const CALLER_RETRIES_HEADER = 'x-openai-proxy-caller-retries';

/** The first retry waits up to this long (half of it at least), each next one twice as long, up to the max. */
export const RETRY_BACKOFF_BASE_MS = 100;
export const RETRY_BACKOFF_MAX_MS = 2_000;
/** A `Retry-After` up to this long is waited for before the retry; a longer one goes to the client instead. */
export const RETRY_AFTER_MAX_WAIT_MS = 5_000;

/** The span of the retry budget's window, and the retries it allows at idle (a lone request still retries). */
export const RETRY_BUDGET_WINDOW_MS = 10_000;
export const RETRY_BUDGET_FLOOR = 3;
/** The window is kept in this many slots: it slides by a tenth of its span. */
const RETRY_BUDGET_SLOTS = 10;

/** Node's and undici's codes for a call that failed before any answer came, where sending it again is safe. */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** True when the error's `code`, or its cause's (undici wraps socket errors) a few levels down, is one of them. */
function hasConnectionErrorCode(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) {
      return true;
    }
    current = cause;
  }
  return false;
}

/** Why a call that threw before its answer's headers may be retried: a connection error; undefined otherwise. */
export function retryReasonForError(error: unknown): RetryReason | undefined {
  return hasConnectionErrorCode(error) ? 'connection' : undefined;
}

/** Why an answer with `status` may be retried where statuses are retried: 429 or 5xx; undefined for any other. */
export function retryReasonForStatus(status: number): RetryReason | undefined {
  if (status === 429) {
    return 'status_429';
  }
  return status >= 500 && status <= 599 ? 'status_5xx' : undefined;
}

/** Which failures of one call may be retried: none, connection errors only, or those and a 429 or 5xx answer. */
export type RetryScope = 'none' | 'connection' | 'all';

/**
 * The scope of one call: none when its request cannot be sent again; statuses too only on a provider hop whose
 * caller does not fail over itself (CALLER_RETRIES_HEADER); connection errors only otherwise.
 */
export function retryScope(kind: 'provider' | 'internal', resendable: boolean, callerRetries: boolean): RetryScope {
  if (!resendable) {
    return 'none';
  }
  return kind === 'provider' && !callerRetries ? 'all' : 'connection';
}

/**
 * A `Retry-After` value (delta seconds or an HTTP date) as milliseconds from `now`, never negative; undefined when
 * absent or unreadable.
 */
export function retryAfterMs(value: string | readonly string[] | undefined, now = Date.now()): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (text === undefined || text === '') {
    return undefined;
  }
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    return Number(text) * 1000;
  }
  // An HTTP date names its month (and day) in letters; a bare number that is not delta seconds is no date.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `retry` (1 for the first): a random time between half and all of a
 * ceiling that doubles from RETRY_BACKOFF_BASE_MS up to RETRY_BACKOFF_MAX_MS, and at least `retryAfter`;
 * undefined when `retryAfter` asks for longer than RETRY_AFTER_MAX_WAIT_MS (no retry then).
 */
export function retryDelayMs(
  retry: number,
  retryAfter: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfter !== undefined && retryAfter > RETRY_AFTER_MAX_WAIT_MS) {
    return undefined;
  }
  const ceiling = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** Math.max(retry - 1, 0));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(retryAfter ?? 0, Math.round(jittered));
}

/**
 * The retries one upstream may get: over a window sliding by slots of a tenth of RETRY_BUDGET_WINDOW_MS, at most
 * `percent` of the first attempts in it, plus RETRY_BUDGET_FLOOR. First attempts cost two array writes.
 */
export class RetryBudget {
  private readonly firsts = new Array<number>(RETRY_BUDGET_SLOTS).fill(0);
  private readonly retries = new Array<number>(RETRY_BUDGET_SLOTS).fill(0);
  private readonly slotMs = RETRY_BUDGET_WINDOW_MS / RETRY_BUDGET_SLOTS;
  /** The slot number (time / slotMs) of the newest slot written. */
  private newest = 0;

  /** `now` is the clock in milliseconds (tests pass their own). */
  constructor(
    private readonly percent: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A call's first attempt went out. */
  recordFirst(): void {
    this.firsts[this.slot()] += 1;
  }

  /** Takes one retry from the budget: false when the window's retries already reached what it allows. */
  tryRetry(): boolean {
    const slot = this.slot();
    const firsts = this.firsts.reduce((sum, count) => sum + count, 0);
    const retries = this.retries.reduce((sum, count) => sum + count, 0);
    if (retries + 1 > RETRY_BUDGET_FLOOR + (firsts * this.percent) / 100) {
      return false;
    }
    this.retries[slot] += 1;
    return true;
  }

  /** The index of the current slot, the slots that went out of the window emptied. */
  private slot(): number {
    const current = Math.floor(this.now() / this.slotMs);
    if (current !== this.newest) {
      const stale = Math.min(current - this.newest, RETRY_BUDGET_SLOTS);
      for (let step = 1; step <= stale; step += 1) {
        const index = (this.newest + step) % RETRY_BUDGET_SLOTS;
        this.firsts[index] = 0;
        this.retries[index] = 0;
      }
      this.newest = current;
    }
    return current % RETRY_BUDGET_SLOTS;
  }
}
