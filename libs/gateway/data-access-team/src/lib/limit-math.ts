import {
  type BudgetPeriod,
  budgetPeriodEnd,
  budgetPeriodKey,
  budgetPeriodStart,
  type LimitAsk,
  type LimitWindow,
  type Reservation,
} from '@openai-proxy/gateway-util-team';

/**
 * The arithmetic of the team limits, shared by the in-process limiter (which runs it) and the Redis limiter (whose
 * Lua script runs the same steps, and which builds its answers here).
 *
 * Requests and tokens per minute are token buckets, like OpenAI's own limits: a bucket holds at most its limit,
 * refills continuously at limit / 60 s, and a reservation takes 1 request and its tokens when both fit, else
 * nothing. To stay in whole numbers a bucket counts in units of 1/60 000 of a request or token: full is
 * `limit * 60 000` units, it refills `limit` units per millisecond, and one token is 60 000 units. Settling may
 * take a bucket below zero; the next requests then wait.
 *
 * A budget is a counter of the micro-dollars charged in the period (spent, plus reserved by requests in flight).
 * A spent budget (charged ≥ budget) refuses every request, even one that costs nothing, so a budget of 0 refuses
 * all; otherwise an ask is refused when charged + its cost would exceed the budget.
 *
 * Everything here runs on every request, so it works on plain numbers: the limits an ask does not fit are bits of
 * one number (SHORT_BITS), and the in-process buckets are updated in place.
 */

/** The span rpm and tpm are counted over. */
export const MINUTE_MS = 60_000;

/** USD are counted in whole micro-dollars, so sums never drift. */
export const MICROS_PER_USD = 1_000_000;

/** Bucket units one request takes from the requests bucket. */
export const REQUEST_UNITS = MINUTE_MS;

/** Bit of each limit in a "short" mask: the limits an ask did not fit (0: it fits them all). */
export const SHORT_BITS = { requests: 1, tokens: 2, budget: 4 } as const;

/** A token bucket as kept: its level in units (see above) and the last time it was brought up to date. */
export interface BucketState {
  level: number;
  at: number;
}

/**
 * A key's limits at a moment, as an ask met them: each bucket's level and the budget's charged micro-dollars
 * (ignored for a limit the key does not have), which limits it did not fit (SHORT_BITS), and when.
 */
export interface ReservationFacts {
  ask: LimitAsk;
  requestsLevel: number;
  tokensLevel: number;
  chargedMicros: number;
  short: number;
  now: number;
}

/** A count of requests or tokens as the limits count it: whole ones, rounded up, never negative. */
export function wholeCount(count: number): number {
  return Math.ceil(Math.max(0, count));
}

/** Bucket units of `count` requests or tokens. */
export function bucketUnits(count: number): number {
  return wholeCount(count) * MINUTE_MS;
}

/** USD as whole micro-dollars (never negative). */
export function toMicros(usd: number): number {
  return Math.round(Math.max(0, usd) * MICROS_PER_USD);
}

/** A bucket that was never used: full, as of `now`. */
export function fullBucket(limit: number, now: number): BucketState {
  return { level: limit * MINUTE_MS, at: now };
}

/**
 * A bucket's level at `now`: refilled for the time since it was last updated and capped at its limit (a limit
 * lowered since is applied at once). A missing bucket is a full one. Time never runs backwards: a `now` earlier
 * than the bucket's (another replica's clock) refills nothing.
 */
export function refilledLevel(state: BucketState | undefined, limit: number, now: number): number {
  const capacity = limit * MINUTE_MS;
  return state === undefined ? capacity : Math.min(capacity, state.level + Math.max(0, now - state.at) * limit);
}

/**
 * Brings a bucket up to `now` in place (refilledLevel), then adds `units` (negative: takes them); a bucket given
 * back more than its limit stays above it until the next refill caps it. The later of the two times is kept.
 */
export function moveBucket(state: BucketState, limit: number, now: number, units: number): void {
  state.level = refilledLevel(state, limit, now) + units;
  state.at = Math.max(state.at, now);
}

/** Milliseconds until a bucket at `level` is full again. */
export function fullInMs(level: number, limit: number): number {
  return limit <= 0 ? 0 : Math.max(0, Math.ceil((limit * MINUTE_MS - level) / limit));
}

/** Milliseconds until a bucket at `level` holds `need` units; null when it never will (more than its whole limit). */
export function waitMs(level: number, need: number, limit: number): number | null {
  if (level >= need) {
    return 0;
  }
  if (limit <= 0 || need > limit * MINUTE_MS) {
    return null;
  }
  return Math.ceil((need - level) / limit);
}

/** A bucket at `level` as the `x-ratelimit-*` headers show it: its limit, whole units left, time until full. */
export function limitWindow(level: number, limit: number): LimitWindow {
  return { limit, remaining: Math.max(0, Math.floor(level / MINUTE_MS)), resetMs: fullInMs(level, limit) };
}

/** Whether a budget with `chargedMicros` charged refuses an ask of `costMicros`. */
export function budgetRefuses(chargedMicros: number, costMicros: number, budgetMicros: number): boolean {
  return chargedMicros >= budgetMicros || chargedMicros + costMicros > budgetMicros;
}

/** The limits an ask does not fit (SHORT_BITS), given the levels it meets (0: it is granted). */
export function shortLimits(ask: LimitAsk, requestsLevel: number, tokensLevel: number, chargedMicros: number): number {
  const { rpm, tpm, budgetUsd } = ask.limits;
  let short = 0;
  if (rpm !== null && requestsLevel < REQUEST_UNITS) {
    short |= SHORT_BITS.requests;
  }
  if (tpm !== null && tokensLevel < bucketUnits(ask.tokens)) {
    short |= SHORT_BITS.tokens;
  }
  if (budgetUsd !== null && budgetRefuses(chargedMicros, toMicros(ask.costUsd), toMicros(budgetUsd))) {
    short |= SHORT_BITS.budget;
  }
  return short;
}

/** A bucket's window for the headers, less what a granted ask took from it; undefined for a limit the key lacks. */
function windowAfter(limit: number | null, level: number, taken: number): LimitWindow | undefined {
  return limit === null ? undefined : limitWindow(level - taken, limit);
}

/** A wait in milliseconds; null: no wait is long enough. */
type Wait = number | null;

/** Whether waiting `a` takes at least as long as waiting `b`. */
function noShorter(a: Wait, b: Wait): boolean {
  return a === null || (b !== null && b <= a);
}

/** Why an ask was refused: the budget when it is short, else the bucket that takes longest to let it through. */
function refusal(
  facts: ReservationFacts,
): Pick<Extract<Reservation, { granted: false }>, 'refusedBy' | 'retryAfterMs' | 'tooLarge'> {
  const { ask, short, now } = facts;
  const { rpm, tpm, budgetUsd, budgetPeriod } = ask.limits;
  if ((short & SHORT_BITS.budget) !== 0 && budgetUsd !== null) {
    const tooLarge = toMicros(ask.costUsd) > toMicros(budgetUsd);
    const end = budgetPeriodEnd(budgetPeriod, new Date(now));
    return { refusedBy: 'budget', tooLarge, retryAfterMs: tooLarge || end === null ? null : end.getTime() - now };
  }
  // undefined: that bucket is not short.
  const requestsWait =
    (short & SHORT_BITS.requests) !== 0 && rpm !== null ? waitMs(facts.requestsLevel, REQUEST_UNITS, rpm) : undefined;
  const tokensWait =
    (short & SHORT_BITS.tokens) !== 0 && tpm !== null
      ? waitMs(facts.tokensLevel, bucketUnits(ask.tokens), tpm)
      : undefined;
  const byRequests = requestsWait !== undefined && (tokensWait === undefined || noShorter(requestsWait, tokensWait));
  const wait = (byRequests ? requestsWait : tokensWait) ?? null;
  return { refusedBy: byRequests ? 'requests' : 'tokens', tooLarge: wait === null, retryAfterMs: wait };
}

/**
 * The answer to a reservation: granted (charged to the budget period `period`) with the windows after it, or
 * refused with why and for how long.
 */
export function reservationAnswer(facts: ReservationFacts, period: string): Reservation {
  const { ask, requestsLevel, tokensLevel } = facts;
  const { rpm, tpm } = ask.limits;
  if (facts.short === 0) {
    return {
      granted: true,
      keyId: ask.keyId,
      limits: ask.limits,
      tokens: wholeCount(ask.tokens),
      costUsd: ask.costUsd,
      budgetPeriodKey: period,
      requests: windowAfter(rpm, requestsLevel, REQUEST_UNITS),
      tokensWindow: windowAfter(tpm, tokensLevel, bucketUnits(ask.tokens)),
    };
  }
  return {
    granted: false,
    ...refusal(facts),
    requests: windowAfter(rpm, requestsLevel, 0),
    tokensWindow: windowAfter(tpm, tokensLevel, 0),
  };
}

/**
 * The current budget period of each kind, remembered until it ends: its key (`budgetPeriodKey`) and, for a
 * monthly one, when it ends, so that no date is built on every request. A clock that goes back re-reads the month.
 */
export class BudgetPeriods {
  private readonly totalKey = budgetPeriodKey('total', new Date(0));
  private monthStart = 0;
  private monthEnd = 0;
  private monthKey = '';

  /** The key of the period `now` falls in. */
  keyAt(period: BudgetPeriod, now: number): string {
    if (period === 'total') {
      return this.totalKey;
    }
    this.readMonth(now);
    return this.monthKey;
  }

  /** When the period `now` falls in ends (ms since the epoch); null for a whole-life budget. */
  endAt(period: BudgetPeriod, now: number): number | null {
    if (period === 'total') {
      return null;
    }
    this.readMonth(now);
    return this.monthEnd;
  }

  private readMonth(now: number): void {
    if (now >= this.monthStart && now < this.monthEnd) {
      return;
    }
    const at = new Date(now);
    this.monthStart = budgetPeriodStart('monthly', at)?.getTime() ?? now;
    this.monthEnd = budgetPeriodEnd('monthly', at)?.getTime() ?? now;
    this.monthKey = budgetPeriodKey('monthly', at);
  }
}
