import { randomUUID } from 'node:crypto';
import type {
  GrantedReservation,
  KeyLimits,
  LimitAsk,
  LimitWindow,
  Reservation,
} from '@openai-proxy/gateway-util-team';
import { testRedisUrl } from '@openai-proxy/testing-fakes';
import { MemoryLimiter } from './memory-limiter';
import { RedisLimiter } from './redis-limiter';
import { createTeamLimiter } from './team-limiter';
import type { TeamLimiter } from './team-store.types';

/** The suite both limiters are held to: same asks, same clock, same answers. */

/** Mid-January 2026, UTC: the monthly budget period ends on 1 February. */
const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const FEBRUARY = Date.UTC(2026, 1, 1);

const NO_LIMITS: KeyLimits = { rpm: null, tpm: null, budgetUsd: null, budgetPeriod: 'monthly' };

interface Subject {
  name: string;
  create(now: () => number): TeamLimiter;
}

const SUBJECTS: Subject[] = [
  { name: 'MemoryLimiter', create: (now) => new MemoryLimiter({ now }) },
  { name: 'RedisLimiter', create: (now) => new RedisLimiter({ redisUrl: testRedisUrl(), now }) },
];

/** A spentUsd callback that answers `usd` and counts its calls. */
function ledgerSays(usd: number): { spentUsd: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    spentUsd: () => {
      calls += 1;
      return Promise.resolve(usd);
    },
    calls: () => calls,
  };
}

function granted(reservation: Reservation): GrantedReservation {
  if (!reservation.granted) {
    throw new Error(`expected a grant, got a refusal by ${reservation.refusedBy}`);
  }
  return reservation;
}

function grantedCount(reservations: readonly Reservation[]): number {
  return reservations.filter((reservation) => reservation.granted).length;
}

describe.each(SUBJECTS)('$name', ({ create }) => {
  let time: number;
  let keyId: string;
  let limiter: TeamLimiter;
  const nothingSpent = (): Promise<number> => Promise.resolve(0);

  function ask(limits: Partial<KeyLimits>, tokens = 0, costUsd = 0): LimitAsk {
    return { keyId, limits: { ...NO_LIMITS, ...limits }, tokens, costUsd };
  }

  function reserve(limits: Partial<KeyLimits>, tokens = 0, costUsd = 0): Promise<Reservation> {
    return limiter.reserve(ask(limits, tokens, costUsd), nothingSpent);
  }

  beforeEach(() => {
    time = START;
    keyId = `key_${randomUUID()}`;
    limiter = create(() => time);
  });

  afterEach(async () => {
    await limiter.close();
  });

  it('should grant every request of a key without limits and show no windows', async () => {
    const ledger = ledgerSays(0);
    const answer = await limiter.reserve(ask({}, 1_000_000, 1_000), ledger.spentUsd);
    expect(answer).toEqual({
      granted: true,
      keyId,
      limits: NO_LIMITS,
      tokens: 1_000_000,
      costUsd: 1_000,
      budgetPeriodKey: '2026-01',
      requests: undefined,
      tokensWindow: undefined,
    });
    expect(ledger.calls()).toBe(0);
  });

  it('should grant rpm requests and refuse the next one with the wait for one request', async () => {
    const windows: (LimitWindow | undefined)[] = [];
    for (let index = 0; index < 3; index += 1) {
      windows.push(granted(await reserve({ rpm: 3 })).requests);
    }
    expect(windows).toEqual([
      { limit: 3, remaining: 2, resetMs: 20_000 },
      { limit: 3, remaining: 1, resetMs: 40_000 },
      { limit: 3, remaining: 0, resetMs: 60_000 },
    ]);
    expect(await reserve({ rpm: 3 })).toEqual({
      granted: false,
      refusedBy: 'requests',
      retryAfterMs: 20_000,
      tooLarge: false,
      requests: { limit: 3, remaining: 0, resetMs: 60_000 },
      tokensWindow: undefined,
    });
  });

  it('should grant tokens up to exactly the tpm and refuse one token more', async () => {
    expect(granted(await reserve({ tpm: 100 }, 40)).tokensWindow).toEqual({
      limit: 100,
      remaining: 60,
      resetMs: 24_000,
    });
    expect(granted(await reserve({ tpm: 100 }, 40)).tokensWindow).toEqual({
      limit: 100,
      remaining: 20,
      resetMs: 48_000,
    });
    expect(await reserve({ tpm: 100 }, 21)).toEqual({
      granted: false,
      refusedBy: 'tokens',
      retryAfterMs: 600,
      tooLarge: false,
      requests: undefined,
      tokensWindow: { limit: 100, remaining: 20, resetMs: 48_000 },
    });
    expect(granted(await reserve({ tpm: 100 }, 20)).tokensWindow).toEqual({
      limit: 100,
      remaining: 0,
      resetMs: 60_000,
    });
  });

  it('should count a fraction of a token as a whole one', async () => {
    const answer = granted(await reserve({ tpm: 100 }, 10.2));
    expect(answer.tokens).toBe(11);
    expect(answer.tokensWindow?.remaining).toBe(89);
  });

  it('should refuse for good an ask of more tokens than the whole tpm, taking nothing', async () => {
    expect(await reserve({ rpm: 5, tpm: 100 }, 101)).toEqual({
      granted: false,
      refusedBy: 'tokens',
      retryAfterMs: null,
      tooLarge: true,
      requests: { limit: 5, remaining: 5, resetMs: 0 },
      tokensWindow: { limit: 100, remaining: 100, resetMs: 0 },
    });
  });

  it('should refill the buckets continuously as time passes', async () => {
    await reserve({ rpm: 2 });
    await reserve({ rpm: 2 });
    expect(await reserve({ rpm: 2 })).toMatchObject({ granted: false, retryAfterMs: 30_000 });
    time += 29_999;
    expect(await reserve({ rpm: 2 })).toMatchObject({ granted: false, retryAfterMs: 1 });
    time += 1;
    expect(granted(await reserve({ rpm: 2 })).requests).toEqual({ limit: 2, remaining: 0, resetMs: 60_000 });

    granted(await reserve({ tpm: 60 }, 60));
    time += 1_000;
    expect(granted(await reserve({ tpm: 60 }, 1)).tokensWindow).toEqual({ limit: 60, remaining: 0, resetMs: 60_000 });
    expect(await reserve({ tpm: 60 }, 1)).toMatchObject({ granted: false, refusedBy: 'tokens', retryAfterMs: 1_000 });
  });

  it('should refill no further than the limit, and apply a lowered limit at once', async () => {
    granted(await reserve({ rpm: 10 }));
    time += 10 * 60_000;
    expect(granted(await reserve({ rpm: 10 })).requests).toEqual({ limit: 10, remaining: 9, resetMs: 6_000 });
    expect(granted(await reserve({ rpm: 5 })).requests).toEqual({ limit: 5, remaining: 4, resetMs: 12_000 });
  });

  it('should refill nothing when the clock goes back (another replica behind), nor later count that time twice', async () => {
    granted(await reserve({ rpm: 2 }));
    time -= 30_000;
    granted(await reserve({ rpm: 2 }));
    expect(await reserve({ rpm: 2 })).toMatchObject({ granted: false, retryAfterMs: 30_000 });
    time += 60_000;
    expect(granted(await reserve({ rpm: 2 })).requests).toEqual({ limit: 2, remaining: 0, resetMs: 60_000 });
  });

  it('should give back on settle the tokens reserved but not used', async () => {
    const first = granted(await reserve({ tpm: 100 }, 80));
    await limiter.settle(first, { tokens: 30, costUsd: 0 });
    expect(granted(await reserve({ tpm: 100 }, 70)).tokensWindow).toEqual({
      limit: 100,
      remaining: 0,
      resetMs: 60_000,
    });
    expect(await reserve({ tpm: 100 }, 1)).toMatchObject({ granted: false, refusedBy: 'tokens' });
  });

  it('should take on settle the tokens used beyond the reservation, below zero, so the next requests wait', async () => {
    const first = granted(await reserve({ tpm: 100 }, 50));
    await limiter.settle(first, { tokens: 130, costUsd: 0 });
    expect(await reserve({ tpm: 100 }, 0)).toEqual({
      granted: false,
      refusedBy: 'tokens',
      retryAfterMs: 18_000,
      tooLarge: false,
      requests: undefined,
      tokensWindow: { limit: 100, remaining: 0, resetMs: 78_000 },
    });
    time += 18_000;
    granted(await reserve({ tpm: 100 }, 0));
  });

  it('should give back on settle no more than the limit holds', async () => {
    const first = granted(await reserve({ tpm: 100 }, 50));
    time += 30_000;
    await limiter.settle(first, { tokens: 0, costUsd: 0 });
    expect(granted(await reserve({ tpm: 100 }, 100)).tokensWindow).toEqual({
      limit: 100,
      remaining: 0,
      resetMs: 60_000,
    });
  });

  it('should grant budget asks up to exactly the budget and refuse the next until the month ends', async () => {
    const limits = { budgetUsd: 1 };
    for (let index = 0; index < 4; index += 1) {
      granted(await reserve(limits, 0, 0.25));
    }
    expect(await reserve(limits, 0, 0.25)).toEqual({
      granted: false,
      refusedBy: 'budget',
      retryAfterMs: FEBRUARY - START,
      tooLarge: false,
      requests: undefined,
      tokensWindow: undefined,
    });
  });

  it('should refuse an ask that would pass the budget and grant a smaller one that fits', async () => {
    granted(await reserve({ budgetUsd: 1 }, 0, 0.6));
    expect(await reserve({ budgetUsd: 1 }, 0, 0.5)).toMatchObject({ granted: false, refusedBy: 'budget' });
    granted(await reserve({ budgetUsd: 1 }, 0, 0.4));
  });

  it('should refuse every request once the budget is spent, even one that costs nothing', async () => {
    granted(await reserve({ budgetUsd: 1 }, 0, 1));
    expect(await reserve({ budgetUsd: 1 }, 0, 0)).toMatchObject({ granted: false, refusedBy: 'budget' });
  });

  it('should refuse everything with a budget of 0', async () => {
    expect(await reserve({ budgetUsd: 0 }, 0, 0)).toMatchObject({ granted: false, refusedBy: 'budget' });
  });

  it('should tell that no wait helps when a whole-life budget is spent, or an ask costs more than the budget', async () => {
    granted(await reserve({ budgetUsd: 1, budgetPeriod: 'total' }, 0, 1));
    expect(await reserve({ budgetUsd: 1, budgetPeriod: 'total' }, 0, 0)).toMatchObject({
      granted: false,
      refusedBy: 'budget',
      retryAfterMs: null,
      tooLarge: false,
    });
    expect(await reserve({ budgetUsd: 1, budgetPeriod: 'monthly' }, 0, 1.5)).toMatchObject({
      granted: false,
      refusedBy: 'budget',
      retryAfterMs: null,
      tooLarge: true,
    });
  });

  it('should seed the budget counter once from what the ledger says was spent', async () => {
    const ledger = ledgerSays(0.9);
    const limits = { ...NO_LIMITS, budgetUsd: 1 };
    granted(await limiter.reserve({ keyId, limits, tokens: 0, costUsd: 0.1 }, ledger.spentUsd));
    expect(await limiter.reserve({ keyId, limits, tokens: 0, costUsd: 0 }, ledger.spentUsd)).toMatchObject({
      granted: false,
      refusedBy: 'budget',
    });
    expect(ledger.calls()).toBe(1);
  });

  it('should pass a failure of the ledger on as it is', async () => {
    const failure = new Error('ledger down');
    await expect(limiter.reserve(ask({ budgetUsd: 1 }, 0, 0.1), () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('should start a new counter, seeded again, when the month changes', async () => {
    const january = ledgerSays(1);
    const limits = { ...NO_LIMITS, budgetUsd: 1 };
    expect(await limiter.reserve({ keyId, limits, tokens: 0, costUsd: 0 }, january.spentUsd)).toMatchObject({
      granted: false,
    });
    time = FEBRUARY + 1;
    const february = ledgerSays(0);
    expect(
      granted(await limiter.reserve({ keyId, limits, tokens: 0, costUsd: 0.5 }, february.spentUsd)).budgetPeriodKey,
    ).toBe('2026-02');
    expect([january.calls(), february.calls()]).toEqual([1, 1]);
  });

  it('should replace on settle the estimated cost by the actual one', async () => {
    const limits = { budgetUsd: 1 };
    const estimate = granted(await reserve(limits, 0, 0.8));
    expect(await reserve(limits, 0, 0.3)).toMatchObject({ granted: false, refusedBy: 'budget' });
    await limiter.settle(estimate, { tokens: 0, costUsd: 0.1 });
    const second = granted(await reserve(limits, 0, 0.2));
    await limiter.settle(second, { tokens: 0, costUsd: 0.6 });
    expect(await reserve(limits, 0, 0.31)).toMatchObject({ granted: false, refusedBy: 'budget' });
    granted(await reserve(limits, 0, 0.3));
  });

  it('should settle a reservation on the month it was charged to', async () => {
    const limits = { budgetUsd: 1 };
    const january = granted(await reserve(limits, 0, 0.5));
    time = FEBRUARY + 1;
    granted(await reserve(limits, 0, 1));
    await limiter.settle(january, { tokens: 0, costUsd: 0 });
    expect(await reserve(limits, 0, 0)).toMatchObject({ granted: false, refusedBy: 'budget' });
  });

  it('should name the budget when it refuses with a bucket, else the bucket with the longest wait', async () => {
    granted(await reserve({ rpm: 1, tpm: 100, budgetUsd: 1 }, 10, 1));
    expect(await reserve({ rpm: 1, tpm: 100, budgetUsd: 1 }, 100)).toMatchObject({ refusedBy: 'budget' });
    expect(await reserve({ rpm: 1, tpm: 100 }, 100)).toMatchObject({ refusedBy: 'requests', retryAfterMs: 60_000 });
    expect(await reserve({ rpm: 1, tpm: 100 }, 101)).toMatchObject({ refusedBy: 'tokens', retryAfterMs: null });
  });

  it('should take all three limits or none', async () => {
    const limits = { rpm: 2, tpm: 100, budgetUsd: 1 };
    granted(await reserve(limits, 60, 0.5));
    expect(await reserve(limits, 60, 0.5)).toMatchObject({ granted: false, refusedBy: 'tokens' });
    expect(granted(await reserve(limits, 40, 0.5))).toMatchObject({
      requests: { limit: 2, remaining: 0 },
      tokensWindow: { limit: 100, remaining: 0 },
    });
  });

  it('should show the windows of one bucket, settles included, for a key with plenty of room', async () => {
    const limits = { rpm: 1000, tpm: 1_000_000 };
    const windows: (LimitWindow | undefined)[] = [];
    // Each settle gives back 300 tokens. (With Redis, the first one's go past the lease just taken and on to the
    // shared bucket, whose ceiling is lower by what the lease holds: refilled to it while the lease is partly used,
    // Redis would show less than one bucket. 300 given back and 500 refilled stay below it.)
    for (let index = 0; index < 3; index += 1) {
      const reservation = granted(await reserve(limits, 1000));
      windows.push(reservation.requests, reservation.tokensWindow);
      await limiter.settle(reservation, { tokens: 700, costUsd: 0 });
    }
    time += 30;
    const later = granted(await reserve(limits, 1000));
    windows.push(later.requests, later.tokensWindow);
    expect(windows).toEqual([
      { limit: 1000, remaining: 999, resetMs: 60 },
      { limit: 1_000_000, remaining: 999_000, resetMs: 60 },
      { limit: 1000, remaining: 998, resetMs: 120 },
      { limit: 1_000_000, remaining: 998_300, resetMs: 102 },
      { limit: 1000, remaining: 997, resetMs: 180 },
      { limit: 1_000_000, remaining: 997_600, resetMs: 144 },
      // 30 ms later: half a request and 500 tokens refilled.
      { limit: 1000, remaining: 996, resetMs: 210 },
      { limit: 1_000_000, remaining: 997_400, resetMs: 156 },
    ]);
  });

  it('should grant exactly the rpm of 100 parallel requests', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => reserve({ rpm: 10 })));
    expect(grantedCount(answers)).toBe(10);
  });

  it('should grant exactly as many parallel asks as the tpm holds', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => reserve({ tpm: 1000 }, 30)));
    expect(grantedCount(answers)).toBe(33);
  });

  it('should grant exactly as many parallel asks as the budget holds', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => reserve({ budgetUsd: 1 }, 0, 0.3)));
    expect(grantedCount(answers)).toBe(3);
  });

  it('should be ready', async () => {
    await expect(limiter.ready()).resolves.toBe(true);
  });
});

describe('createTeamLimiter', () => {
  it('should keep the limits in process without a Redis URL', async () => {
    const limiter = createTeamLimiter({ redisUrl: undefined });
    expect(limiter).toBeInstanceOf(MemoryLimiter);
    await limiter.close();
  });

  it('should keep the limits in Redis with a Redis URL', async () => {
    const limiter = createTeamLimiter({ redisUrl: testRedisUrl() });
    try {
      expect(limiter).toBeInstanceOf(RedisLimiter);
      await expect(limiter.ready()).resolves.toBe(true);
    } finally {
      await limiter.close();
    }
  });
});
