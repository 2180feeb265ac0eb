import {
  type BucketState,
  BudgetPeriods,
  fullBucket,
  fullInMs,
  limitWindow,
  MINUTE_MS,
  moveBucket,
  refilledLevel,
  reservationAnswer,
  SHORT_BITS,
  toMicros,
  waitMs,
  wholeCount,
} from './limit-math';

describe('limit math', () => {
  it('should read a missing bucket as a full one', () => {
    expect(refilledLevel(undefined, 10, 5_000)).toBe(10 * MINUTE_MS);
    expect(fullBucket(10, 5_000)).toEqual({ level: 10 * MINUTE_MS, at: 5_000 });
  });

  it('should refill `limit` units per millisecond up to the limit', () => {
    expect(refilledLevel({ level: 0, at: 1_000 }, 10, 4_000)).toBe(30_000);
    expect(refilledLevel({ level: 0, at: 0 }, 10, 120_000)).toBe(10 * MINUTE_MS);
  });

  it('should refill nothing, and keep the later time, when the clock goes back', () => {
    const bucket: BucketState = { level: 0, at: 5_000 };
    expect(refilledLevel(bucket, 10, 1_000)).toBe(0);
    moveBucket(bucket, 10, 1_000, MINUTE_MS);
    expect(bucket).toEqual({ level: MINUTE_MS, at: 5_000 });
  });

  it('should let a settle take a bucket below zero and leave one above its limit to the next refill', () => {
    const low: BucketState = { level: 0, at: 0 };
    moveBucket(low, 10, 0, -2 * MINUTE_MS);
    expect(low).toEqual({ level: -2 * MINUTE_MS, at: 0 });
    const over = fullBucket(10, 0);
    moveBucket(over, 10, 0, MINUTE_MS);
    expect(over.level).toBe(11 * MINUTE_MS);
    expect(refilledLevel(over, 10, 0)).toBe(10 * MINUTE_MS);
  });

  it('should wait for what is missing, and tell when no wait is enough', () => {
    expect(waitMs(MINUTE_MS, MINUTE_MS, 10)).toBe(0);
    expect(waitMs(0, MINUTE_MS, 10)).toBe(6_000);
    expect(waitMs(0, 11 * MINUTE_MS, 10)).toBeNull();
    expect(waitMs(-1, 0, 0)).toBeNull();
  });

  it('should show a bucket as whole units left and the time until it is full', () => {
    expect(limitWindow(2.5 * MINUTE_MS, 10)).toEqual({ limit: 10, remaining: 2, resetMs: 45_000 });
    expect(limitWindow(-MINUTE_MS, 10)).toEqual({ limit: 10, remaining: 0, resetMs: 66_000 });
    expect(fullInMs(0, 0)).toBe(0);
  });

  it('should count whole tokens and whole micro-dollars, never below zero', () => {
    expect([wholeCount(0.1), wholeCount(3), wholeCount(-4)]).toEqual([1, 3, 0]);
    expect([toMicros(0.1 + 0.2), toMicros(1.0000004), toMicros(-1)]).toEqual([300_000, 1_000_000, 0]);
  });

  it('should refuse for good every request of a key with an rpm of 0', () => {
    const ask = {
      keyId: 'key_a',
      limits: { rpm: 0, tpm: null, budgetUsd: null, budgetPeriod: 'total' as const },
      tokens: 0,
      costUsd: 0,
    };
    expect(
      reservationAnswer(
        { ask, requestsLevel: 0, tokensLevel: 0, chargedMicros: 0, short: SHORT_BITS.requests, now: 0 },
        'total',
      ),
    ).toEqual({
      granted: false,
      refusedBy: 'requests',
      retryAfterMs: null,
      tooLarge: true,
      requests: { limit: 0, remaining: 0, resetMs: 0 },
      tokensWindow: undefined,
    });
  });

  it('should name the bucket with the longer wait when both are short, the requests one when they tie', () => {
    const ask = {
      keyId: 'key_a',
      limits: { rpm: 10, tpm: 100, budgetUsd: null, budgetPeriod: 'total' as const },
      tokens: 10,
      costUsd: 0,
    };
    const both = SHORT_BITS.requests | SHORT_BITS.tokens;
    const answer = (requestsLevel: number, tokensLevel: number, short = both) =>
      reservationAnswer({ ask, requestsLevel, tokensLevel, chargedMicros: 0, short, now: 0 }, 'total');
    // One request is 6 000 ms of an rpm of 10 away at level 0; ten tokens 6 000 ms of a tpm of 100.
    expect(answer(0, 0)).toMatchObject({ refusedBy: 'requests', retryAfterMs: 6_000 });
    expect(answer(0, -MINUTE_MS * 100)).toMatchObject({ refusedBy: 'tokens', retryAfterMs: 66_000 });
    expect(answer(MINUTE_MS / 2, 0)).toMatchObject({ refusedBy: 'tokens', retryAfterMs: 6_000 });
    expect(answer(0, 0, SHORT_BITS.tokens)).toMatchObject({ refusedBy: 'tokens', retryAfterMs: 6_000 });
    expect(answer(MINUTE_MS, 0, SHORT_BITS.tokens).requests).toEqual({ limit: 10, remaining: 1, resetMs: 54_000 });
  });

  it('should name the budget period of a moment, and tell when a monthly one ends', () => {
    const periods = new BudgetPeriods();
    const january = Date.UTC(2026, 0, 31, 23, 59, 59, 999);
    const february = Date.UTC(2026, 1, 1);
    expect(periods.keyAt('monthly', january)).toBe('2026-01');
    expect(periods.endAt('monthly', january)).toBe(february);
    expect(periods.keyAt('monthly', february)).toBe('2026-02');
    expect(periods.keyAt('monthly', january)).toBe('2026-01');
    expect(periods.endAt('monthly', february)).toBe(Date.UTC(2026, 2, 1));
    expect([periods.keyAt('total', january), periods.endAt('total', january)]).toEqual(['total', null]);
  });
});
