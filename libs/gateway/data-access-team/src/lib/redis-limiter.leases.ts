import type { GrantedReservation, KeyLimits, LimitAsk, LimitWindow } from '@openai-proxy/gateway-util-team';
import { bucketUnits, limitWindow, MINUTE_MS, REQUEST_UNITS, toMicros, wholeCount } from './limit-math';

/**
 * Leases of the Redis limiter: room a replica took from a key's shared limits, in the same script run that
 * reserved a request (RESERVE_SCRIPT), to reserve the key's next requests in process, with no Redis call. A lease
 * is small (a few percent of the limits) and short (LEASE_TTL_MS): it is taken only while the key has plenty of
 * room, so near a limit every request goes to Redis, and another replica never waits long for room a lease holds.
 */

/** How long a lease serves: then what is left of it is given back to Redis. */
export const LEASE_TTL_MS = 500;

/** What a lease was taken with: the room it holds and the shared levels it left behind in Redis. */
export interface LeaseTerms {
  keyId: string;
  /** The limits and budget period it was taken under: an ask under others is never reserved from it. */
  limits: KeyLimits;
  period: string;
  /** The replica's name for its leases in Redis, as it was when this one was taken. */
  holder: string;
  /** The room taken: request and token bucket units (limit-math.ts), micro-dollars. */
  requests: number;
  tokens: number;
  micros: number;
  /** The buckets' levels in Redis right after the take (refilled from `at`), for the rate-limit headers. */
  requestsLevel: number;
  tokensLevel: number;
  at: number;
  /** When it stops serving, on the limiter's clock. */
  expiresAt: number;
}

/** What a lease that ends gives back: units to add to the buckets, micro-dollars to add to the counter. */
export interface LeaseReturn {
  requestUnits: number;
  tokenUnits: number;
  micros: number;
  /** The units the lease held in each bucket (they stop lowering its ceiling). */
  heldRequests: number;
  heldTokens: number;
}

/** Whether two sets of limits are the same. */
function sameLimits(a: KeyLimits, b: KeyLimits): boolean {
  return (
    a === b || (a.rpm === b.rpm && a.tpm === b.tpm && a.budgetUsd === b.budgetUsd && a.budgetPeriod === b.budgetPeriod)
  );
}

/**
 * A bucket of `limit` with a lease out, as the reserve script sees it at `now`: refilled from `level` at `at`, up
 * to the limit less what the lease holds.
 */
function levelWithLease(level: number, at: number, limit: number, held: number, now: number): number {
  return Math.min(limit * MINUTE_MS - held, level + Math.max(0, now - at) * limit);
}

/**
 * One lease in hand: the room left in it, taken from as the key's requests are reserved and given back to as they
 * settle (any reservation of the key under the same limits and period, from the lease or from Redis: what it gives
 * back then returns to Redis with the lease, within its lifetime). Its tokens never rise above what it was taken
 * with: a settle of a reservation it did not grant can give back more, and what is past that goes to Redis, whose
 * bucket caps it, so the bucket and the leases together never hold more than the limit. It ends (expired,
 * superseded, overdrawn, given back at close or dropped) by leaving the Leases in hand.
 */
export class Lease {
  readonly terms: LeaseTerms;
  /** Room left: request and token bucket units, micro-dollars (tokens and micro-dollars go below 0 when settles
   * take more than they reserved). */
  requests: number;
  tokens: number;
  micros: number;
  /** Token units its settles gave back past what it was taken with, sent on to the shared bucket. */
  private tokensSentOn = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(terms: LeaseTerms) {
    this.terms = terms;
    this.requests = terms.requests;
    this.tokens = terms.tokens;
    this.micros = terms.micros;
  }

  /** Whether it can reserve the whole of `ask` (under the same limits, in the same budget period) at `now`. */
  covers(ask: LimitAsk, period: string, now: number): boolean {
    const { rpm, tpm, budgetUsd } = ask.limits;
    return (
      now < this.terms.expiresAt &&
      period === this.terms.period &&
      sameLimits(ask.limits, this.terms.limits) &&
      (rpm === null || this.requests >= REQUEST_UNITS) &&
      (tpm === null || this.tokens >= bucketUnits(ask.tokens)) &&
      (budgetUsd === null || this.micros >= toMicros(ask.costUsd))
    );
  }

  /** Whether a settle of `reservation` can go into it: a reservation under the same limits, in the same period. */
  takesSettleOf(reservation: GrantedReservation): boolean {
    return reservation.budgetPeriodKey === this.terms.period && sameLimits(reservation.limits, this.terms.limits);
  }

  /**
   * Whether an ask meets the same Redis keys and limit kinds, so that the lease can be given back inside the
   * ask's own script run (same budget period, and each of rpm, tpm and budget present in both or in neither),
   * and the run is `holder`'s, the name the lease was taken under (a run gives back only its own holder's units).
   */
  foldsInto(limits: KeyLimits, period: string, holder: string): boolean {
    const own = this.terms.limits;
    return (
      holder === this.terms.holder &&
      period === this.terms.period &&
      (limits.rpm === null) === (own.rpm === null) &&
      (limits.tpm === null) === (own.tpm === null) &&
      (limits.budgetUsd === null) === (own.budgetUsd === null)
    );
  }

  /**
   * Reserves `ask` from the lease (it covers it). The windows are this replica's view: the shared buckets as Redis
   * left them when the lease was taken, given the tokens sent on from it and refilled since, plus what is left in
   * the lease. Across replicas that is what this replica could still use now if no other replica took or gave
   * back anything since: the others' changes since, and their leases, are not seen (their leases count as used).
   */
  grant(ask: LimitAsk, now: number): GrantedReservation {
    const { rpm, tpm, budgetUsd } = ask.limits;
    const terms = this.terms;
    if (rpm !== null) {
      this.requests -= REQUEST_UNITS;
    }
    if (tpm !== null) {
      this.tokens -= bucketUnits(ask.tokens);
    }
    if (budgetUsd !== null) {
      this.micros -= toMicros(ask.costUsd);
    }
    const requests: LimitWindow | undefined =
      rpm === null
        ? undefined
        : limitWindow(levelWithLease(terms.requestsLevel, terms.at, rpm, terms.requests, now) + this.requests, rpm);
    const tokensWindow: LimitWindow | undefined =
      tpm === null
        ? undefined
        : limitWindow(
            levelWithLease(terms.tokensLevel + this.tokensSentOn, terms.at, tpm, terms.tokens, now) + this.tokens,
            tpm,
          );
    return {
      granted: true,
      keyId: ask.keyId,
      limits: ask.limits,
      tokens: wholeCount(ask.tokens),
      costUsd: ask.costUsd,
      budgetPeriodKey: terms.period,
      requests,
      tokensWindow,
    };
  }

  /**
   * Settles a reservation into it (takesSettleOf): gives back the tokens and micro-dollars not used, or takes those
   * used beyond the reservation (rpm is never given back). True when that overdrew it: it must then go back at once.
   */
  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): boolean {
    const { tpm, budgetUsd } = reservation.limits;
    if (tpm !== null) {
      this.tokens += bucketUnits(reservation.tokens) - bucketUnits(actual.tokens);
    }
    if (budgetUsd !== null) {
      this.micros += toMicros(reservation.costUsd) - toMicros(actual.costUsd);
    }
    return this.tokens < 0 || this.micros < 0;
  }

  /**
   * Brings its tokens back down to what it was taken with, and answers the token units that were past it (0: none):
   * the caller sends them on to Redis, whose bucket caps them at its ceiling.
   */
  takeExcessTokens(): number {
    const excess = Math.max(0, this.tokens - this.terms.tokens);
    this.tokens -= excess;
    this.tokensSentOn += excess;
    return excess;
  }

  /** What it gives back when it ends: what is left of it, and what it held. */
  remainder(): LeaseReturn {
    return {
      requestUnits: this.requests,
      tokenUnits: this.tokens,
      micros: -this.micros,
      heldRequests: this.terms.requests,
      heldTokens: this.terms.tokens,
    };
  }
}

/**
 * The leases in hand, one per key at most, each ended by an unref'd timer after its lifetime (then `expired` gets
 * it, to give back what is left).
 */
export class Leases {
  private readonly byKey = new Map<string, Lease>();

  constructor(
    private readonly ttlMs: number,
    private readonly expired: (lease: Lease) => void,
  ) {}

  /** The key's lease in hand. */
  get(keyId: string): Lease | undefined {
    return this.byKey.get(keyId);
  }

  /** Puts a new lease in hand (the key has none) and starts its timer. */
  add(lease: Lease): void {
    this.byKey.set(lease.terms.keyId, lease);
    lease.timer = setTimeout(() => {
      this.end(lease);
      this.expired(lease);
    }, this.ttlMs);
    lease.timer.unref();
  }

  /** Ends a lease in hand: it serves no more. */
  end(lease: Lease): void {
    clearTimeout(lease.timer);
    this.byKey.delete(lease.terms.keyId);
  }

  /** Ends every lease in hand and hands them over. */
  endAll(): Lease[] {
    const leases = [...this.byKey.values()];
    for (const lease of leases) {
      this.end(lease);
    }
    return leases;
  }
}
