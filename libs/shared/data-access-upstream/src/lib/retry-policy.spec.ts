import fc from 'fast-check';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import {
  NOT_RESENDABLE_HEADER,
  RESET_RETRY_WINDOW_MS,
  RETRY_AFTER_MAX_WAIT_MS,
  RETRY_BACKOFF_BASE_MS,
  RETRY_BACKOFF_MAX_MS,
  RETRY_BUDGET_FLOOR,
  RETRY_BUDGET_WINDOW_MS,
  RetryBudget,
  connectionFailure,
  forbidsResend,
  resendVerdict,
  retryAfterMs,
  retryDelayMs,
  retryReasonForStatus,
  retryScope,
} from './retry-policy';

/** An error as undici throws it: a code of its own, the socket's error as its cause. */
function undiciError(code: string, causeCode?: string): Error {
  const error = new Error(code) as Error & { code: string };
  error.code = code;
  if (causeCode !== undefined) {
    error.cause = Object.assign(new Error(causeCode), { code: causeCode });
  }
  return error;
}

describe('the retry decision', () => {
  it.each([
    [429, 'status_429'],
    [500, 'status_5xx'],
    [502, 'status_5xx'],
    [503, 'status_5xx'],
    [504, 'status_5xx'],
    [529, 'status_5xx'],
  ])('should retry a %i answer as %s', (status, reason) => {
    expect(retryReasonForStatus(status)).toBe(reason);
  });

  it.each([200, 201, 204, 301, 304, 400, 401, 403, 404, 408, 409, 413, 422, 499])(
    'should never retry a %i answer',
    (status) => {
      expect(retryReasonForStatus(status)).toBeUndefined();
    },
  );

  it.each([['ECONNREFUSED'], ['UND_ERR_CONNECT_TIMEOUT'], ['EHOSTUNREACH'], ['ENETUNREACH'], ['EAI_AGAIN']])(
    'should send a call that failed with %s again, however long it took: its request never reached the upstream',
    (code) => {
      fc.assert(
        fc.property(fc.nat({ max: 600_000 }), (elapsedMs) => {
          return (
            resendVerdict(undiciError(code), elapsedMs) === 'resend' &&
            resendVerdict(undiciError('UND_ERR_WRAPPED', code), elapsedMs) === 'resend'
          );
        }),
      );
    },
  );

  it.each([['ECONNRESET'], ['EPIPE'], ['UND_ERR_SOCKET'], ['UND_ERR_CLOSED']])(
    'should send a call reset with %s again only within the reset window (the keep-alive race), never later',
    (code) => {
      expect(resendVerdict(undiciError(code), 0)).toBe('resend');
      expect(resendVerdict(undiciError('UND_ERR_WRAPPED', code), RESET_RETRY_WINDOW_MS - 1)).toBe('resend');
      expect(resendVerdict(undiciError(code), RESET_RETRY_WINDOW_MS)).toBe('never');
      fc.assert(
        fc.property(fc.nat({ max: 600_000 }), (elapsedMs) => {
          const verdict = resendVerdict(undiciError(code), elapsedMs);
          return verdict === (elapsedMs < RESET_RETRY_WINDOW_MS ? 'resend' : 'never');
        }),
      );
    },
  );

  it('should never send again a call that failed with UND_ERR_HEADERS_TIMEOUT, however soon', () => {
    // The upstream took the request and may be working on a slow, paid one: a retry, or another caller's, would
    // double it.
    expect(resendVerdict(undiciError('UND_ERR_HEADERS_TIMEOUT'), 0)).toBe('never');
    expect(connectionFailure(undiciError('UND_ERR_HEADERS_TIMEOUT'))).toBeUndefined();
  });

  it.each([['UND_ERR_BODY_TIMEOUT'], ['UND_ERR_ABORTED'], ['ENOTFOUND'], ['ERR_EGRESS_PROXY_REFUSED']])(
    'should not retry a call that failed with %s',
    (code) => {
      expect(resendVerdict(undiciError(code), 0)).toBeUndefined();
      expect(connectionFailure(undiciError(code))).toBeUndefined();
    },
  );

  it('should not retry an error that has no code, nor a value that is not an error', () => {
    expect(resendVerdict(new Error('boom'), 0)).toBeUndefined();
    expect(resendVerdict('ECONNRESET', 0)).toBeUndefined();
    expect(resendVerdict(undefined, 0)).toBeUndefined();
  });

  it('should read the connection failure a GatewayException classified from its cause', () => {
    const reset = new GatewayException(ErrorCode.UpstreamConnectionReset, 'reset', {
      cause: undiciError('ECONNRESET'),
    });
    const refused = new GatewayException(ErrorCode.UpstreamUnavailable, 'refused', {
      cause: undiciError('UND_ERR_WRAPPED', 'ECONNREFUSED'),
    });
    expect([connectionFailure(reset), connectionFailure(refused)]).toEqual(['reset', 'unreached']);
  });

  it('should tell an answer or an error that must not be sent again by its header, whatever its value', () => {
    expect(forbidsResend({ [NOT_RESENDABLE_HEADER]: 'reset-after-send' })).toBe(true);
    expect(forbidsResend({ [NOT_RESENDABLE_HEADER]: ['x'] })).toBe(true);
    expect(forbidsResend({ 'retry-after': '1' })).toBe(false);
  });

  it.each([
    ['provider', true, false, 'all'],
    ['provider', true, true, 'connection'],
    ['internal', true, false, 'connection'],
    ['internal', true, true, 'connection'],
    ['provider', false, false, 'none'],
    ['internal', false, false, 'none'],
  ] as const)(
    'should give a %s hop whose request can be sent again: %s, caller fails over: %s, the scope %s',
    (kind, resendable, callerRetries, scope) => {
      expect(retryScope(kind, resendable, callerRetries)).toBe(scope);
    },
  );
});

describe(retryAfterMs.name, () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('should read delta seconds and an HTTP date, never below zero', () => {
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('1.5', now)).toBe(1_500);
    expect(retryAfterMs(['3', '9'], now)).toBe(3_000);
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:04 GMT', now)).toBe(4_000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('should give undefined when the header is absent or unreadable', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('should read any whole number of seconds as that many milliseconds', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), (seconds) => retryAfterMs(String(seconds), now) === seconds * 1000),
    );
  });

  it('should read any date as its distance from now, or zero when it is past', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (seconds) => {
        const date = new Date(now + seconds * 1000).toUTCString();
        return retryAfterMs(date, now) === Math.max(0, seconds * 1000);
      }),
    );
  });

  it('should give a number of at least zero or undefined, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const ms = retryAfterMs(text, now);
        return ms === undefined || (Number.isFinite(ms) && ms >= 0);
      }),
    );
  });
});

describe(retryDelayMs.name, () => {
  it('should wait between half and all of a ceiling that doubles from the base, up to the max', () => {
    expect(retryDelayMs(1, undefined, () => 0)).toBe(RETRY_BACKOFF_BASE_MS / 2);
    expect(retryDelayMs(1, undefined, () => 1)).toBe(RETRY_BACKOFF_BASE_MS);
    expect(retryDelayMs(2, undefined, () => 1)).toBe(RETRY_BACKOFF_BASE_MS * 2);
    expect(retryDelayMs(30, undefined, () => 1)).toBe(RETRY_BACKOFF_MAX_MS);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (retry, random) => {
        const ceiling = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** (retry - 1));
        const delay = retryDelayMs(retry, undefined, () => random) ?? -1;
        return delay >= Math.floor(ceiling / 2) && delay <= ceiling;
      }),
    );
  });

  it('should wait at least what Retry-After asks, in seconds or as a date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryDelayMs(1, retryAfterMs('2', now), () => 1)).toBe(2_000);
    expect(retryDelayMs(1, retryAfterMs('Wed, 01 Jan 2025 00:00:03 GMT', now), () => 0)).toBe(3_000);
    // A Retry-After shorter than the backoff leaves the backoff.
    expect(retryDelayMs(3, 0, () => 1)).toBe(RETRY_BACKOFF_BASE_MS * 4);
  });

  it('should not retry at all when Retry-After asks for longer than it waits', () => {
    expect(retryDelayMs(1, RETRY_AFTER_MAX_WAIT_MS, () => 0)).toBe(RETRY_AFTER_MAX_WAIT_MS);
    expect(retryDelayMs(1, RETRY_AFTER_MAX_WAIT_MS + 1, () => 0)).toBeUndefined();
    expect(retryDelayMs(1, retryAfterMs('60'), () => 0)).toBeUndefined();
  });
});

describe(RetryBudget.name, () => {
  /** A clock the test moves by hand. */
  function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
    let time = start;
    return {
      now: () => time,
      advance: (ms) => {
        time += ms;
      },
    };
  }

  /** Takes retries until the budget refuses one (bounded); how many it gave. */
  function drain(budget: RetryBudget): number {
    let given = 0;
    while (given < 1_000 && budget.tryRetry()) {
      given += 1;
    }
    return given;
  }

  it('should give the floor at idle, so that a lone request can still retry', () => {
    const budget = new RetryBudget(20, clock().now);
    budget.recordFirst();
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR);
  });

  it('should give at most the percentage of first attempts plus the floor within the window', () => {
    const time = clock();
    const budget = new RetryBudget(20, time.now);
    for (let request = 0; request < 50; request += 1) {
      budget.recordFirst();
      time.advance(10);
    }
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR + 10);
  });

  it('should keep the attempts of requests that fail completely under 1.2 times the requests plus the floor', () => {
    const time = clock();
    const budget = new RetryBudget(20, time.now);
    let attempts = 0;
    for (let request = 0; request < 500; request += 1) {
      budget.recordFirst();
      attempts += 1;
      for (let retry = 0; retry < 2 && budget.tryRetry(); retry += 1) {
        attempts += 1;
      }
      time.advance(5);
    }
    // 500 requests in 2.5 s: one window.
    expect(attempts).toBeLessThanOrEqual(500 * 1.2 + RETRY_BUDGET_FLOOR);
    expect(attempts).toBeGreaterThan(500);
  });

  it('should forget first attempts and retries once they left the window', () => {
    const time = clock();
    const budget = new RetryBudget(20, time.now);
    for (let request = 0; request < 50; request += 1) {
      budget.recordFirst();
    }
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR + 10);
    time.advance(RETRY_BUDGET_WINDOW_MS / 2);
    expect(budget.tryRetry()).toBeUndefined();
    time.advance(RETRY_BUDGET_WINDOW_MS);
    // The window is empty again: the floor only.
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR);
  });

  it('should slide: the first attempts of the last window count, older ones do not', () => {
    const time = clock();
    const budget = new RetryBudget(20, time.now);
    for (let request = 0; request < 50; request += 1) {
      budget.recordFirst();
    }
    time.advance(RETRY_BUDGET_WINDOW_MS - RETRY_BUDGET_WINDOW_MS / 10);
    for (let request = 0; request < 50; request += 1) {
      budget.recordFirst();
    }
    time.advance(RETRY_BUDGET_WINDOW_MS / 10);
    // The first 50 are out of the window; the last 50 remain.
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR + 10);
  });

  it('should count the retries taken within the window against it', () => {
    const time = clock();
    const budget = new RetryBudget(20, time.now);
    for (let request = 0; request < 100; request += 1) {
      budget.recordFirst();
    }
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR + 20);
    time.advance(RETRY_BUDGET_WINDOW_MS / 2);
    for (let request = 0; request < 100; request += 1) {
      budget.recordFirst();
    }
    // 200 first attempts allow 43 retries, 23 of which were taken.
    expect(drain(budget)).toBe(20);
  });

  it('should take back a retry given back, as long as the slot it was taken in is still in the window', () => {
    const time = clock();
    const budget = new RetryBudget(0, time.now);
    const taken = Array.from({ length: RETRY_BUDGET_FLOOR }, () => budget.tryRetry());
    expect(budget.tryRetry()).toBeUndefined();
    taken[0]?.giveBack();
    // Given back twice still counts once.
    taken[0]?.giveBack();
    expect(drain(budget)).toBe(1);
    time.advance(RETRY_BUDGET_WINDOW_MS);
    // Its slot left the window: the retries taken there were forgotten already, nothing more comes back.
    const late = budget.tryRetry();
    taken[1]?.giveBack();
    expect(late).toBeDefined();
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR - 1);
  });

  it('should give no more than the floor with a budget of 0%', () => {
    const budget = new RetryBudget(0, clock().now);
    for (let request = 0; request < 100; request += 1) {
      budget.recordFirst();
    }
    expect(drain(budget)).toBe(RETRY_BUDGET_FLOOR);
  });
});
