import {
  budgetPeriodKey,
  type GrantedReservation,
  type LimitAsk,
  type Reservation,
} from '@openai-proxy/gateway-util-team';
import {
  type BucketState,
  bucketUnits,
  limitTake,
  refilledBucket,
  reservationAnswer,
  settledBucket,
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

/** What the limiter keeps for one key (a bucket is absent until first used: absent is full). */
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
  private readonly now: () => number;

  constructor(options: MemoryLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async reserve(ask: LimitAsk, spentUsd: () => Promise<number>): Promise<Reservation> {
    const now = this.now();
    const state = this.stateOf(ask.keyId);
    const period = budgetPeriodKey(ask.limits.budgetPeriod, new Date(now));
    if (ask.limits.budgetUsd !== null && state.budget?.period !== period) {
      const spent = await this.seeds.read(`${ask.keyId}:${period}`, spentUsd);
      if (state.budget?.period !== period) {
        state.budget = { period, chargedMicros: toMicros(spent) };
      }
    }
    const requests = ask.limits.rpm === null ? undefined : refilledBucket(state.requests, ask.limits.rpm, now);
    const tokens = ask.limits.tpm === null ? undefined : refilledBucket(state.tokens, ask.limits.tpm, now);
    const budget = ask.limits.budgetUsd === null ? undefined : state.budget;
    const levels = { requests: requests?.level, tokens: tokens?.level, chargedMicros: budget?.chargedMicros };
    const short = shortLimits(levels, ask);
    if (short.length === 0) {
      const take = limitTake(ask);
      if (requests !== undefined) {
        state.requests = { level: requests.level - take.requests, at: requests.at };
      }
      if (tokens !== undefined) {
        state.tokens = { level: tokens.level - take.tokens, at: tokens.at };
      }
      if (budget !== undefined) {
        budget.chargedMicros += take.micros;
      }
    }
    return reservationAnswer({ ask, levels, short, now });
  }

  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void> {
    const state = this.stateOf(reservation.keyId);
    const { tpm, budgetUsd } = reservation.limits;
    if (tpm !== null) {
      const back = bucketUnits(reservation.tokens) - bucketUnits(actual.tokens);
      state.tokens = settledBucket(state.tokens, tpm, this.now(), back);
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
