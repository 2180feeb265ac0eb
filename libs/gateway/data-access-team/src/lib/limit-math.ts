import {
  budgetPeriodEnd,
  budgetPeriodKey,
  type KeyLimits,
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
 */

/** The span rpm and tpm are counted over. */
export const MINUTE_MS = 60_000;

/** USD are counted in whole micro-dollars, so sums never drift. */
export const MICROS_PER_USD = 1_000_000;

/** The limits a reservation is counted against. */
export const LIMIT_NAMES = ['requests', 'tokens', 'budget'] as const;

/** One of LIMIT_NAMES. */
export type LimitName = (typeof LIMIT_NAMES)[number];

/** A token bucket as kept: its level in units (see above) and the last time it was brought up to date. */
export interface BucketState {
  level: number;
  at: number;
}

/** What one ask takes: bucket units for the request and its tokens, micro-dollars for its cost. */
export interface LimitTake {
  requests: number;
  tokens: number;
  micros: number;
}

/** A key's limits at a moment, before an ask: each bucket's level and the budget's charged micro-dollars (undefined: no such limit). */
export interface LimitLevels {
  requests: number | undefined;
  tokens: number | undefined;
  chargedMicros: number | undefined;
}

/** Everything a reservation's answer is built from: the ask, the levels it met, and which limits it did not fit. */
export interface ReservationFacts {
  ask: LimitAsk;
  levels: LimitLevels;
  short: readonly LimitName[];
  now: number;
}

/** One bucket of a key, with what an ask needs from it. */
interface BucketNeed {
  name: 'requests' | 'tokens';
  limit: number;
  level: number;
  need: number;
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

/** What an ask takes from each limit. */
export function limitTake(ask: LimitAsk): LimitTake {
  return { requests: bucketUnits(1), tokens: bucketUnits(ask.tokens), micros: toMicros(ask.costUsd) };
}

/**
 * A bucket brought up to `now`: refilled for the time since it was last updated and capped at its limit (a limit
 * lowered since is applied at once). A missing bucket is a full one. Time never runs backwards: a `now` earlier than
 * the bucket's (another replica's clock) refills nothing and keeps the later time.
 */
export function refilledBucket(state: BucketState | undefined, limit: number, now: number): BucketState {
  const capacity = limit * MINUTE_MS;
  if (state === undefined) {
    return { level: capacity, at: now };
  }
  const elapsed = Math.max(0, now - state.at);
  return { level: Math.min(capacity, state.level + elapsed * limit), at: Math.max(state.at, now) };
}

/** A bucket after a settle: refilled, then given back `units` (negative: taken); above its limit until the next refill caps it. */
export function settledBucket(state: BucketState | undefined, limit: number, now: number, units: number): BucketState {
  const refilled = refilledBucket(state, limit, now);
  return { level: refilled.level + units, at: refilled.at };
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

function bucketNeeds(levels: LimitLevels, take: LimitTake, limits: KeyLimits): BucketNeed[] {
  const needs: BucketNeed[] = [];
  if (limits.rpm !== null && levels.requests !== undefined) {
    needs.push({ name: 'requests', limit: limits.rpm, level: levels.requests, need: take.requests });
  }
  if (limits.tpm !== null && levels.tokens !== undefined) {
    needs.push({ name: 'tokens', limit: limits.tpm, level: levels.tokens, need: take.tokens });
  }
  return needs;
}

/** The limits an ask does not fit, given the levels it meets (none: it is granted). */
export function shortLimits(levels: LimitLevels, ask: LimitAsk): LimitName[] {
  const take = limitTake(ask);
  const short: LimitName[] = bucketNeeds(levels, take, ask.limits)
    .filter((bucket) => bucket.level < bucket.need)
    .map((bucket) => bucket.name);
  const { budgetUsd } = ask.limits;
  if (
    budgetUsd !== null &&
    levels.chargedMicros !== undefined &&
    budgetRefuses(levels.chargedMicros, take.micros, toMicros(budgetUsd))
  ) {
    short.push('budget');
  }
  return short;
}

/** The windows of the headers: the levels as met, less what a granted ask took. */
function windows(
  levels: LimitLevels,
  take: LimitTake,
  limits: KeyLimits,
  granted: boolean,
): Pick<Reservation, 'requests' | 'tokensWindow'> {
  const taken = granted ? take : { requests: 0, tokens: 0, micros: 0 };
  const window = (level: number | undefined, limit: number | null, units: number): LimitWindow | undefined =>
    level === undefined || limit === null ? undefined : limitWindow(level - units, limit);
  return {
    requests: window(levels.requests, limits.rpm, taken.requests),
    tokensWindow: window(levels.tokens, limits.tpm, taken.tokens),
  };
}

/** Why an ask was refused: the budget when it is short, else the bucket that takes longest to let it through. */
function refusal(
  facts: ReservationFacts,
  take: LimitTake,
): Pick<Extract<Reservation, { granted: false }>, 'refusedBy' | 'retryAfterMs' | 'tooLarge'> {
  const { limits } = facts.ask;
  if (facts.short.includes('budget') && limits.budgetUsd !== null) {
    const tooLarge = take.micros > toMicros(limits.budgetUsd);
    const end = budgetPeriodEnd(limits.budgetPeriod, new Date(facts.now));
    return { refusedBy: 'budget', tooLarge, retryAfterMs: tooLarge || end === null ? null : end.getTime() - facts.now };
  }
  const waits = bucketNeeds(facts.levels, take, limits)
    .filter((bucket) => facts.short.includes(bucket.name))
    .map((bucket) => ({ name: bucket.name, wait: waitMs(bucket.level, bucket.need, bucket.limit) }));
  const longest = waits.reduce((worst, next) =>
    worst.wait === null || (next.wait !== null && next.wait <= worst.wait) ? worst : next,
  );
  return { refusedBy: longest.name, tooLarge: longest.wait === null, retryAfterMs: longest.wait };
}

/** The answer to a reservation: granted with the windows after it, or refused with why and for how long. */
export function reservationAnswer(facts: ReservationFacts): Reservation {
  const { ask, levels, now } = facts;
  const take = limitTake(ask);
  if (facts.short.length === 0) {
    return {
      granted: true,
      keyId: ask.keyId,
      limits: ask.limits,
      tokens: wholeCount(ask.tokens),
      costUsd: ask.costUsd,
      budgetPeriodKey: budgetPeriodKey(ask.limits.budgetPeriod, new Date(now)),
      ...windows(levels, take, ask.limits, true),
    };
  }
  return { granted: false, ...refusal(facts, take), ...windows(levels, take, ask.limits, false) };
}
