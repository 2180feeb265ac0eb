import type { GrantedReservation, LimitAsk, Reservation } from '@openai-proxy/gateway-util-team';
import {
  type BucketState,
  BudgetPeriods,
  bucketUnits,
  fullBucket,
  moveBucket,
  REQUEST_UNITS,
  refilledLevel,
  reservationAnswer,
  shortLimits,
  toMicros,
} from './limit-math';
import type { TeamLimiter } from './team-store.types';
import { SeedReads } from './team-limiter.seeds';

/** A key's budget counter: the period it counts and the micro-dollars charged in it (spent and reserved). */
interface BudgetCounter {
  period: string;
  chargedMicros: number;
}

/** What the limiter keeps for one key, updated in place (a bucket is absent until first used: absent is full). */
interface KeyState {
  requests?: BucketState;
  tokens?: BucketState;
  budget?: BudgetCounter;
}

/** The in-process limiter's options; `now` is injectable so tests are exact. */
export interface MemoryLimiterOptions {
  now?: () => number;
}

/**
 * The limits of one replica, in process (no `REDIS_URL`): the algorithm of limit-math.ts on a map of keys. Each
 * check-and-take runs without a pause between the check and the take, so parallel requests cannot overrun a limit.
 * The map holds one entry per gateway key; a budget counter is replaced (seeded again) when its period ends.
 */
export class MemoryLimiter implements TeamLimiter {
  private readonly keys = new Map<string, KeyState>();
  private readonly seeds = new SeedReads();
  private readonly periods = new BudgetPeriods();
  private readonly now: () => number;

  constructor(options: MemoryLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async reserve(ask: LimitAsk, spentUsd: () => Promise<number>): Promise<Reservation> {
    const now = this.now();
    const state = this.stateOf(ask.keyId);
    const { rpm, tpm, budgetUsd, budgetPeriod } = ask.limits;
    const period = this.periods.keyAt(budgetPeriod, now);
    if (budgetUsd !== null && state.budget?.period !== period) {
      const spent = await this.seeds.read(`${ask.keyId}:${period}`, spentUsd);
      if (state.budget?.period !== period) {
        state.budget = { period, chargedMicros: toMicros(spent) };
      }
    }
    // Levels of limits the key does not have are never read.
    const requestsLevel = rpm === null ? 0 : refilledLevel(state.requests, rpm, now);
    const tokensLevel = tpm === null ? 0 : refilledLevel(state.tokens, tpm, now);
    const chargedMicros = state.budget?.chargedMicros ?? 0;
    const short = shortLimits(ask, requestsLevel, tokensLevel, chargedMicros);
    if (short === 0) {
      if (rpm !== null) {
        state.requests ??= fullBucket(rpm, now);
        moveBucket(state.requests, rpm, now, -REQUEST_UNITS);
      }
      if (tpm !== null) {
        state.tokens ??= fullBucket(tpm, now);
        moveBucket(state.tokens, tpm, now, -bucketUnits(ask.tokens));
      }
      if (budgetUsd !== null && state.budget !== undefined) {
        state.budget.chargedMicros += toMicros(ask.costUsd);
      }
    }
    return reservationAnswer({ ask, requestsLevel, tokensLevel, chargedMicros, short, now }, period);
  }

  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void> {
    const state = this.stateOf(reservation.keyId);
    const { tpm, budgetUsd } = reservation.limits;
    if (tpm !== null) {
      const now = this.now();
      state.tokens ??= fullBucket(tpm, now);
      moveBucket(state.tokens, tpm, now, bucketUnits(reservation.tokens) - bucketUnits(actual.tokens));
    }
    if (budgetUsd !== null && state.budget?.period === reservation.budgetPeriodKey) {
      state.budget.chargedMicros += toMicros(actual.costUsd) - toMicros(reservation.costUsd);
    }
    return Promise.resolve();
  }

  /** Always true: nothing to reach. */
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.keys.clear();
    return Promise.resolve();
  }

  private stateOf(keyId: string): KeyState {
    let state = this.keys.get(keyId);
    if (state === undefined) {
      state = {};
      this.keys.set(keyId, state);
    }
    return state;
  }
}
