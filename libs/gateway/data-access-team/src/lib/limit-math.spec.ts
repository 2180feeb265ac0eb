import {
  fullInMs,
  limitWindow,
  MINUTE_MS,
  refilledBucket,
  reservationAnswer,
  settledBucket,
  toMicros,
  waitMs,
  wholeCount,
} from './limit-math';

describe('limit math', () => {
  it('should read a missing bucket as a full one', () => {
    expect(refilledBucket(undefined, 10, 5_000)).toEqual({ level: 10 * MINUTE_MS, at: 5_000 });
  });

  it('should refill `limit` units per millisecond up to the limit', () => {
    expect(refilledBucket({ level: 0, at: 1_000 }, 10, 4_000)).toEqual({ level: 30_000, at: 4_000 });
    expect(refilledBucket({ level: 0, at: 0 }, 10, 120_000)).toEqual({ level: 10 * MINUTE_MS, at: 120_000 });
  });

  it('should let a settle take a bucket below zero and leave one above its limit to the next refill', () => {
    expect(settledBucket({ level: 0, at: 0 }, 10, 0, -2 * MINUTE_MS)).toEqual({ level: -2 * MINUTE_MS, at: 0 });
    const over = settledBucket(undefined, 10, 0, MINUTE_MS);
    expect(refilledBucket(over, 10, 0).level).toBe(10 * MINUTE_MS);
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
      reservationAnswer({
        ask,
        levels: { requests: 0, tokens: undefined, chargedMicros: undefined },
        short: ['requests'],
        now: 0,
      }),
    ).toEqual({
      granted: false,
      refusedBy: 'requests',
      retryAfterMs: null,
      tooLarge: true,
      requests: { limit: 0, remaining: 0, resetMs: 0 },
      tokensWindow: undefined,
    });
  });
});
