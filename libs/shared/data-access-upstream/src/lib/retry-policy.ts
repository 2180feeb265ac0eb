/**
 * The retry decision of every upstream call, in one place (the one retry layer: undici itself never retries).
 *
 * A call is tried again only before anything went to the client, only when its request can be sent again (no
 * body, or a body held whole: a streamed client body never is), and only for a failure that says nothing about
 * the request itself and cannot have let the upstream do its (paid) work:
 * - a connection error that came before the request could reach the upstream: refused, a host or network out of
 *   reach, a name that did not resolve for now (EAI_AGAIN), a connect timeout;
 * - a connection reset or closed under the call (ECONNRESET, EPIPE, UND_ERR_SOCKET, UND_ERR_CLOSED) only when it
 *   came within RESET_RETRY_WINDOW_MS of the attempt's start, before any answer: the keep-alive race (the server
 *   had closed the idle connection the request went out on) or a new connection dropped at once. A later reset
 *   may come after the upstream read the whole request and worked on it (a load balancer dropping a long call):
 *   it is answered (502 `upstream_connection_reset`) and marked NOT_RESENDABLE_HEADER, so that no caller sends
 *   it again either, on another key or to a fallback model. Time is the only evidence at hand: undici tells a
 *   dispatch handler neither which socket carried the request nor whether it was reused, and it calls
 *   `onRequestSent` in the keep-alive race too (the request was written before the close was seen);
 * - a provider's 429 or 5xx. Never 400, 401, 403, 404, 413 or any other status: the same request gets the same
 *   answer. One of our own services answers with its provider's status, already retried there, so statuses are
 *   retried on provider hops only;
 * - never a headers timeout: the upstream may be working on a slow, paid request, and a retry would double it.
 * Each retry waits a jittered, growing backoff, at least the `Retry-After` asked for; an answer asking to wait
 * longer than RETRY_AFTER_MAX_WAIT_MS goes to the client as it came. Retries are paid out of a budget per
 * upstream (RetryBudget), so an upstream that fails completely gets at most ~20% more attempts, not 3x; a retry
 * is paid when it is planned and given back when it is not made after all (the client left during the wait).
 */

/** Why an upstream call was tried again, as `upstream_retries_total{reason}` counts it. */
export type RetryReason = 'connection' | 'status_429' | 'status_5xx' | 'key_failover' | 'model_fallback';

/**
 * An internal request header (the relays drop `x-openai-proxy-*` before the provider) by which the gateway says
 * it fails over between provider keys itself: the service answers this request's 429 and 5xx as they come, so
 * that a refused key costs one attempt, not one per retry layer.
 */
export const CALLER_RETRIES_HEADER = 'x-openai-proxy-caller-retries';

/**
 * An internal header on an error answer (and the error) for a request the upstream may have worked on: a reset
 * that came after RESET_RETRY_WINDOW_MS. Whoever called must not send that request again: no retry, no other
 * provider key, no fallback model. A relay drops it from what it passes on, like every `x-openai-proxy-*` header.
 */
export const NOT_RESENDABLE_HEADER = 'x-openai-proxy-not-resendable';

/**
 * The header by which an answer tells the official OpenAI and Anthropic SDKs whether to retry it (`true`,
 * `false`): without it they retry any 5xx twice by default. Not OpenAI's documented API, but both SDKs obey it.
 */
export const SHOULD_RETRY_HEADER = 'x-should-retry';

/**
 * The headers of an error answer whose request must not be sent again (`why`: what happened after it went out):
 * NOT_RESENDABLE_HEADER for our own callers, and `x-should-retry: false` for a client's SDK, whose retry could
 * have the provider do (and bill) the work again.
 */
export function notResendableHeaders(why: 'reset-after-send' | 'timeout-after-send'): Record<string, string> {
  return { [NOT_RESENDABLE_HEADER]: why, [SHOULD_RETRY_HEADER]: 'false' };
}

/** True when an answer (or an error's headers) says that its request must not be sent again (NOT_RESENDABLE_HEADER). */
export function forbidsResend(headers: Readonly<Record<string, string | readonly string[] | undefined>>): boolean {
  return headers[NOT_RESENDABLE_HEADER] !== undefined;
}

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

/** A reset (or a connection closed under the call) this soon after its attempt started is the keep-alive race. */
export const RESET_RETRY_WINDOW_MS = 1_000;

/** Node's and undici's codes for a call whose request could not reach the upstream: refused, out of reach. */
const UNREACHED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Node's and undici's codes for a connection reset or closed under a call, before its answer. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** How a call failed on its connection: its request could not reach the upstream, or the connection was reset. */
export type ConnectionFailure = 'unreached' | 'reset';

/**
 * The connection failure an error's `code`, or its cause's (undici wraps socket errors; a GatewayException keeps
 * the error it classified) a few levels down, names; undefined for any other error (a timeout, an abort…).
 */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && UNREACHED_CODES.has(code)) {
      return 'unreached';
    }
    if (typeof code === 'string' && RESET_CODES.has(code)) {
      return 'reset';
    }
    current = cause;
  }
  return undefined;
}

/**
 * Whether an error (or its cause, a few levels down) is undici's headers timeout: the upstream took the request
 * and sent no answer in time, so it may be working on it.
 */
export function isHeadersTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      return true;
    }
    current = cause;
  }
  return false;
}

/**
 * What a call that threw before its answer's headers, `elapsedMs` after its attempt started, means for sending
 * it again: `resend` when it cannot have reached the upstream's work (a connection failure before the request
 * could reach it, or a reset within RESET_RETRY_WINDOW_MS), `never` when it may have (a later reset, a headers
 * timeout: marked so that no caller sends it again either); undefined when it is no connection failure (another
 * timeout, an abort: nothing is retried then).
 */
export function resendVerdict(error: unknown, elapsedMs: number): 'resend' | 'never' | undefined {
  if (isHeadersTimeout(error)) {
    return 'never';
  }
  const failure = connectionFailure(error);
  if (failure === 'reset') {
    return elapsedMs < RESET_RETRY_WINDOW_MS ? 'resend' : 'never';
  }
  return failure === 'unreached' ? 'resend' : undefined;
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

/** One retry a RetryBudget gave: `giveBack` returns it when the retry was not made after all. */
export interface TakenRetry {
  giveBack(): void;
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
    this.firsts[this.advance() % RETRY_BUDGET_SLOTS] += 1;
  }

  /** Takes one retry from the budget: undefined when the window's retries already reached what it allows. */
  tryRetry(): TakenRetry | undefined {
    const slot = this.advance();
    const firsts = this.firsts.reduce((sum, count) => sum + count, 0);
    const retries = this.retries.reduce((sum, count) => sum + count, 0);
    if (retries + 1 > RETRY_BUDGET_FLOOR + (firsts * this.percent) / 100) {
      return undefined;
    }
    this.retries[slot % RETRY_BUDGET_SLOTS] += 1;
    let given = false;
    return {
      giveBack: () => {
        if (!given) {
          given = true;
          this.giveBack(slot);
        }
      },
    };
  }

  /** Returns a retry taken in slot number `slot`, unless that slot has left the window since. */
  private giveBack(slot: number): void {
    const index = slot % RETRY_BUDGET_SLOTS;
    if (this.advance() - slot < RETRY_BUDGET_SLOTS && this.retries[index] > 0) {
      this.retries[index] -= 1;
    }
  }

  /** The current slot number (time / slotMs), the slots that went out of the window emptied. */
  private advance(): number {
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
    return current;
  }
}
