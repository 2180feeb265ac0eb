import { KeyRefusedError, ProviderKeyPool, refusesKey, restMs } from './provider-key-pool';

const NONE: ReadonlySet<string> = new Set();

/** Lets the breaker's promise callbacks run (its state changes after the attempt's promise settles). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe(ProviderKeyPool.name, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('should spread requests over the keys in turn', () => {
    const pool = new ProviderKeyPool(['a', 'b', 'c']);
    const keys = Array.from({ length: 6 }, () => {
      const lease = pool.lease(NONE);
      lease?.succeeded();
      return lease?.key;
    });
    expect(keys).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('should rest a refused key and lend the others until its rest is over, then let one request probe it', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z'), doNotFake: ['setImmediate'] });
    const pool = new ProviderKeyPool(['a', 'b']);
    pool.lease(NONE)?.refused(new KeyRefusedError(429, 5_000));
    await settle();
    expect(pool.availableCount()).toBe(1);
    const during = Array.from({ length: 4 }, () => {
      const lease = pool.lease(NONE);
      lease?.succeeded();
      return lease?.key;
    });
    await settle();
    expect(during).toEqual(['b', 'b', 'b', 'b']);
    jest.setSystemTime(Date.now() + 5_001);
    const probe = [pool.lease(NONE), pool.lease(NONE)];
    expect(probe.map((lease) => lease?.key).sort()).toEqual(['a', 'b']);
    for (const lease of probe) {
      lease?.succeeded();
    }
    await settle();
    expect(pool.availableCount()).toBe(2);
  });

  it('should keep the rest the first refusal set when a request lent the key before it is refused too', async () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z'), doNotFake: ['setImmediate'] });
    const pool = new ProviderKeyPool(['a', 'b']);
    const early = pool.lease(new Set(['b']));
    const late = pool.lease(new Set(['b']));
    expect([early?.key, late?.key]).toEqual(['a', 'a']);
    early?.refused(new KeyRefusedError(429, 5_000));
    await settle();
    jest.setSystemTime(Date.now() + 4_000);
    late?.refused(new KeyRefusedError(429, 60_000));
    late?.succeeded();
    await settle();
    expect(pool.availableCount()).toBe(1);
    jest.setSystemTime(Date.now() + 1_001);
    const probe = pool.lease(new Set(['b']));
    expect(probe?.key).toBe('a');
    probe?.succeeded();
    await settle();
    expect(pool.availableCount()).toBe(2);
  });

  it('should lend the next untried key for a retry, and none once every key was tried', () => {
    const pool = new ProviderKeyPool(['a', 'b']);
    const first = pool.lease(NONE);
    first?.refused(new KeyRefusedError(500, undefined));
    const second = pool.lease(new Set([first?.key ?? '']));
    expect(second?.key).not.toBe(first?.key);
    expect(pool.lease(new Set(['a', 'b']))).toBeUndefined();
  });

  it('should still lend a key when every key rests (the provider then answers for itself)', async () => {
    const pool = new ProviderKeyPool(['only']);
    pool.lease(NONE)?.refused(new KeyRefusedError(401, undefined));
    await settle();
    expect(pool.availableCount()).toBe(0);
    expect(pool.lease(NONE)?.key).toBe('only');
  });
});

describe('ProviderKeyPool.views', () => {
  it("should name each key's breaker by its place in the pool, never by any part of the key", async () => {
    const pool = new ProviderKeyPool(['sk-first-0123456789', 'sk-second-0123456789']);
    pool.lease(NONE)?.refused(new KeyRefusedError(429, 5_000));
    await settle();
    const views = pool.views('openai');
    expect(views).toEqual({ 'openai#1': { state: 'open' }, 'openai#2': { state: 'closed' } });
    expect(JSON.stringify(views)).not.toMatch(/sk-|first|second|6789/);
  });
});

describe('ProviderKeyPool.peek', () => {
  it('should give a key that is not resting, and never change a breaker', async () => {
    const pool = new ProviderKeyPool(['a', 'b']);
    const refused = pool.lease(NONE);
    refused?.refused(new KeyRefusedError(429, undefined));
    await settle();
    const other = refused?.key === 'a' ? 'b' : 'a';
    expect([pool.peek(), pool.peek(), pool.peek()]).toEqual([other, other, other]);
    expect(pool.availableCount()).toBe(1);
  });

  it('should give a resting key when every key rests, leaving it resting', async () => {
    const pool = new ProviderKeyPool(['only']);
    pool.lease(NONE)?.refused(new KeyRefusedError(401, undefined));
    await settle();
    expect(pool.peek()).toBe('only');
    expect(pool.availableCount()).toBe(0);
  });
});

describe(restMs.name, () => {
  it('should rest a rejected key longest, a busy one less, a failing one least, and honour Retry-After', () => {
    expect(restMs(new KeyRefusedError(401, undefined), 1)).toBe(300_000);
    expect(restMs(new KeyRefusedError(429, undefined), 1)).toBe(10_000);
    expect(restMs(new KeyRefusedError(429, undefined), 3)).toBe(40_000);
    expect(restMs(new KeyRefusedError(503, undefined), 1)).toBe(2_000);
    expect(restMs(new KeyRefusedError(503, undefined), 10)).toBe(30_000);
    expect(restMs(new KeyRefusedError(429, 7_000), 1)).toBe(7_000);
  });

  it('should refuse a key only on 401, 429 and 5xx', () => {
    expect([400, 401, 403, 404, 413, 429, 500, 503].filter(refusesKey)).toEqual([401, 429, 500, 503]);
  });
});
