import fc from 'fast-check';
import { openAiDuration, rateLimitHeaders, retryAfterSeconds } from './rate-limit-headers';

describe('openAiDuration', () => {
  it("should write durations as OpenAI's headers do", () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [-5, '0s'],
      [20, '20ms'],
      [0.2, '1ms'],
      [999, '999ms'],
      [1000, '1s'],
      [1500, '1.5s'],
      [17_280, '17.28s'],
      [59_999, '59.999s'],
      [60_000, '1m0s'],
      [90_500, '1m30.5s'],
      [360_000, '6m0s'],
      [3_600_000, '1h0m0s'],
      [3_723_004, '1h2m3.004s'],
    ];
    for (const [ms, text] of cases) {
      expect(openAiDuration(ms)).toBe(text);
    }
  });

  it('should read back as the milliseconds it was given, rounded up', () => {
    const pattern = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d{1,3})?)s)?(?:(\d+)ms)?$/;
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (ms) => {
        const match = pattern.exec(openAiDuration(ms));
        expect(match).not.toBeNull();
        const [, hours = '0', minutes = '0', seconds = '0', millis = '0'] = match ?? [];
        const total = Number(hours) * 3_600_000 + Number(minutes) * 60_000 + Number(seconds) * 1000 + Number(millis);
        expect(Math.round(total)).toBe(Math.ceil(ms));
      }),
    );
  });
});

describe('rateLimitHeaders', () => {
  it('should set the three headers of each limit the key has', () => {
    expect(
      rateLimitHeaders(
        { limit: 60, remaining: 59, resetMs: 1000 },
        { limit: 100_000, remaining: 98_500, resetMs: 360_000 },
      ),
    ).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': '98500',
      'x-ratelimit-reset-tokens': '6m0s',
    });
  });

  it('should leave out a limit the key does not have, and never show a negative remainder', () => {
    expect(rateLimitHeaders(undefined, undefined)).toEqual({});
    expect(rateLimitHeaders(undefined, { limit: 10, remaining: -3, resetMs: 20 })).toEqual({
      'x-ratelimit-limit-tokens': '10',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '20ms',
    });
  });
});

describe('retryAfterSeconds', () => {
  it('should round up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(-50)).toBe(1);
    expect(retryAfterSeconds(Number.NaN)).toBe(1);
  });

  it('should never tell a client to retry before the wait is over', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e9, noNaN: true }), (ms) => {
        const seconds = retryAfterSeconds(ms);
        expect(Number.isInteger(seconds) && seconds >= 1 && seconds * 1000 >= ms).toBe(true);
      }),
    );
  });
});
