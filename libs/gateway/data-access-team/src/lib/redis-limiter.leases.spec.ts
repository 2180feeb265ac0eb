import { randomUUID } from 'node:crypto';
import type { GrantedReservation, KeyLimits, LimitAsk, Reservation } from '@openai-proxy/gateway-util-team';
import { startRedisServer, type TestServer, testRedisUrl } from '@openai-proxy/testing-fakes';
import { Redis } from 'ioredis';
import { limitKeys, RedisLimiter, type RedisLimiterOptions } from './redis-limiter';
import { LimiterUnavailableError } from './team-store.types';
import { firstRefusal } from './__fixtures__/first-refusal';

const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const PERIOD = '2026-01';
const MINUTE_UNITS = 60_000;
const NO_LIMITS: KeyLimits = { rpm: null, tpm: null, budgetUsd: null, budgetPeriod: 'monthly' };
const NOTHING_SPENT = (): Promise<number> => Promise.resolve(0);
/** A lifetime no test waits for: such a lease ends only when a run supersedes it or close() gives it back. */
const LONG_TTL_MS = 60_000;
/** How long a test waits for a lease's give-back to land with nothing else happening. */
const LANDING_DEADLINE_MS = 3_000;
/** Limits with plenty of room: a lease holds 20 requests, 20 000 tokens and 1% of the budget left. */
const ROOMY: Partial<KeyLimits> = { rpm: 1000, tpm: 1_000_000, budgetUsd: 100 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function askOf(keyId: string, limits: Partial<KeyLimits>, tokens = 0, costUsd = 0): LimitAsk {
  return { keyId, limits: { ...NO_LIMITS, ...limits }, tokens, costUsd };
}

function grantedCount(reservations: readonly Reservation[]): number {
  return reservations.filter((reservation) => reservation.granted).length;
}

async function grantedOn(limiter: RedisLimiter, ask: LimitAsk, spentUsd = NOTHING_SPENT): Promise<GrantedReservation> {
  const answer = await limiter.reserve(ask, spentUsd);
  if (!answer.granted) {
    throw new Error(`expected a grant, got a refusal by ${answer.refusedBy}`);
  }
  return answer;
}

/** What Redis holds of a key's limits: bucket levels in requests and tokens, the counter, and the leases out. */
interface Counters {
  requests: number | null;
  tokens: number | null;
  budgetMicros: number | null;
  leases: number;
}

async function countersOf(redis: Redis, keyId: string): Promise<Counters> {
  const keys = limitKeys(keyId, PERIOD);
  const requests = await redis.hgetall(keys.requests);
  const tokens = await redis.hgetall(keys.tokens);
  const budget = await redis.get(keys.budget);
  const level = (fields: Record<string, string>): number | null =>
    fields.level === undefined ? null : Number(fields.level) / MINUTE_UNITS;
  const leases = [...Object.keys(requests), ...Object.keys(tokens)].filter((name) => name.startsWith('lease:'));
  return {
    requests: level(requests),
    tokens: level(tokens),
    budgetMicros: budget === null ? null : Number(budget),
    leases: leases.length,
  };
}

/** Polls Redis until `done` holds of the key's counters (bounded), and answers the last ones read. */
async function countersOnceLanded(redis: Redis, keyId: string, done: (counters: Counters) => boolean) {
  const deadline = Date.now() + LANDING_DEADLINE_MS;
  let counters = await countersOf(redis, keyId);
  while (!done(counters) && Date.now() < deadline) {
    await sleep(10);
    counters = await countersOf(redis, keyId);
  }
  return counters;
}

/** A Redis of its own, so that INFO commandstats counts one test's scripts only. */
interface OwnRedis {
  redis: Redis;
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** How many times the limiter scripts ran (EVAL and EVALSHA). */
  scriptRuns(): Promise<number>;
  limiter(options?: Partial<RedisLimiterOptions>): RedisLimiter;
  close(): Promise<void>;
}

async function ownRedis(): Promise<OwnRedis> {
  let server: TestServer = await startRedisServer();
  const redis = new Redis(server.url);
  const limiters: RedisLimiter[] = [];
  return {
    redis,
    stop: () => server.stop(),
    restart: async () => {
      server = await startRedisServer(server.port);
    },
    scriptRuns: async () => {
      const stats = await redis.info('commandstats');
      const calls = (command: string): number =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls('eval') + calls('evalsha');
    },
    limiter: (options = {}) => {
      const limiter = new RedisLimiter({ redisUrl: server.url, now: () => START, ...options });
      limiters.push(limiter);
      return limiter;
    },
    close: async () => {
      await Promise.all(limiters.map((limiter) => limiter.close()));
      await redis.quit();
      await server.stop();
    },
  };
}

describe('RedisLimiter leases', () => {
  let own: OwnRedis;
  let keyId: string;

  beforeEach(async () => {
    own = await ownRedis();
    keyId = `key_${randomUUID()}`;
  });

  afterEach(async () => {
    await own.close();
  });

  it('should take a lease with the first request of a roomy key and reserve the next ones from it, with no script run', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    const ask = askOf(keyId, ROOMY, 100, 0.001);
    for (let index = 0; index < 15; index += 1) {
      await grantedOn(limiter, ask);
    }
    // Two runs: the first one asked for the budget counter's seed.
    expect(await own.scriptRuns()).toBe(2);
    // The first request's take and the lease's: 2% of rpm and tpm, 1% of the budget left after the ask.
    expect(await countersOf(own.redis, keyId)).toEqual({
      requests: 1000 - 1 - 20,
      tokens: 1_000_000 - 100 - 20_000,
      budgetMicros: 1000 + Math.floor((100_000_000 - 1000) / 100),
      leases: 2,
    });
  });

  it('should show the windows one bucket would show, from a lease as from Redis', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    const ask = askOf(keyId, ROOMY, 100, 0.001);
    const windows = [];
    for (let index = 1; index <= 3; index += 1) {
      const { requests, tokensWindow } = await grantedOn(limiter, ask);
      windows.push({ requests, tokensWindow });
    }
    expect(windows).toEqual(
      [1, 2, 3].map((count) => ({
        requests: { limit: 1000, remaining: 1000 - count, resetMs: count * 60 },
        tokensWindow: { limit: 1_000_000, remaining: 1_000_000 - count * 100, resetMs: count * 6 },
      })),
    );
  });

  it('should take no lease unless more than a quarter of the limit stays after the ask and the lease', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    const crowded = `key_${randomUUID()}`;
    // 271 requests left: after one and a lease of 20, 250, not more than a quarter. 272: 251.
    await own.redis.hset(limitKeys(crowded, PERIOD).requests, 'level', 271 * MINUTE_UNITS, 'at', START);
    await own.redis.hset(limitKeys(keyId, PERIOD).requests, 'level', 272 * MINUTE_UNITS, 'at', START);
    for (let index = 0; index < 10; index += 1) {
      await grantedOn(limiter, askOf(crowded, { rpm: 1000 }));
    }
    expect(await own.scriptRuns()).toBe(10);
    for (let index = 0; index < 10; index += 1) {
      await grantedOn(limiter, askOf(keyId, { rpm: 1000 }));
    }
    expect(await own.scriptRuns()).toBe(11);
  });

  it('should check every request in Redis once a budget is three quarters spent', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    const spent = (usd: number) => () => Promise.resolve(usd);
    const roomy = `key_${randomUUID()}`;
    // Left after an ask of 0.0001 and a lease of 1% of what is left: 0.2573 of 1 USD (0.74 spent), 0.2474 (0.75).
    for (let index = 0; index < 5; index += 1) {
      await grantedOn(limiter, askOf(roomy, { budgetUsd: 1 }, 0, 0.0001), spent(0.74));
    }
    // The first reservation of a key asks Redis twice: once for the counter's seed.
    expect(await own.scriptRuns()).toBe(2);
    for (let index = 0; index < 5; index += 1) {
      await grantedOn(limiter, askOf(keyId, { budgetUsd: 1 }, 0, 0.0001), spent(0.75));
    }
    expect(await own.scriptRuns()).toBe(2 + 6);
  });

  it('should take no lease when 2% of the tpm does not hold one more request like this one', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    for (let index = 0; index < 5; index += 1) {
      await grantedOn(limiter, askOf(keyId, { tpm: 10_000 }, 201));
    }
    expect(await own.scriptRuns()).toBe(5);
    expect((await countersOf(own.redis, keyId)).leases).toBe(0);
  });

  it('should give back what is left of a lease when its lifetime ends, settles into it included', async () => {
    const limiter = own.limiter({ leaseTtlMs: 300, settleWindowMs: 1 });
    const ask = askOf(keyId, ROOMY, 100, 0.001);
    const first = await grantedOn(limiter, ask);
    const fromLease = [await grantedOn(limiter, ask), await grantedOn(limiter, ask)];
    for (const reservation of fromLease) {
      await limiter.settle(reservation, { tokens: 40, costUsd: 0.0004 });
    }
    expect(await own.scriptRuns()).toBe(2);
    const landed = await countersOnceLanded(own.redis, keyId, (counters) => counters.leases === 0);
    expect(landed).toEqual({
      requests: 1000 - 3,
      tokens: 1_000_000 - 100 - 40 - 40,
      budgetMicros: 1000 + 400 + 400,
      leases: 0,
    });
    await limiter.settle(first, { tokens: 40, costUsd: 0.0004 });
    expect(await countersOf(own.redis, keyId)).toEqual({
      requests: 1000 - 3,
      tokens: 1_000_000 - 3 * 40,
      budgetMicros: 3 * 400,
      leases: 0,
    });
  });

  it('should settle every reservation of a key into its lease in hand, and give back every lease at close', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS, settleWindowMs: LONG_TTL_MS });
    const other = `key_${randomUUID()}`;
    const settles: Promise<void>[] = [];
    for (const id of [keyId, other]) {
      for (let index = 0; index < 4; index += 1) {
        const reservation = await grantedOn(limiter, askOf(id, ROOMY, 100, 0.001));
        settles.push(limiter.settle(reservation, { tokens: 10, costUsd: 0.0001 }));
      }
    }
    // Each key's first reservation ran twice (the budget counter's seed); the rest came from its lease, and every
    // settle went into it.
    expect(await own.scriptRuns()).toBe(4);
    await limiter.close();
    await Promise.all(settles);
    for (const id of [keyId, other]) {
      expect(await countersOf(own.redis, id)).toEqual({
        requests: 1000 - 4,
        tokens: 1_000_000 - 4 * 10,
        budgetMicros: 4 * 100,
        leases: 0,
      });
    }
  });

  it('should give a lease back in the next run when a settle overdraws it', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS, settleWindowMs: LONG_TTL_MS });
    const ask = askOf(keyId, ROOMY, 100, 0.001);
    await grantedOn(limiter, ask);
    const fromLease = await grantedOn(limiter, ask);
    // The lease holds 20 000 tokens and gave 100 of them: 25 000 used overdraws it, which goes to Redis at once.
    await limiter.settle(fromLease, { tokens: 25_000, costUsd: 0.001 });
    expect(await own.scriptRuns()).toBe(2 + 1);
    expect(await countersOf(own.redis, keyId)).toEqual({
      requests: 1000 - 2,
      tokens: 1_000_000 - 100 - 25_000,
      budgetMicros: 1000 + 1000,
      leases: 0,
    });
    // No lease in hand now: the next request goes to Redis and takes a new one.
    await grantedOn(limiter, ask);
    expect(await own.scriptRuns()).toBe(2 + 1 + 1);
  });

  it('should reserve an ask under changed limits in Redis at once, giving the old lease back in the same run', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    await grantedOn(limiter, askOf(keyId, { rpm: 1000 }));
    const lowered = await Promise.all(
      Array.from({ length: 12 }, () => limiter.reserve(askOf(keyId, { rpm: 10 }), NOTHING_SPENT)),
    );
    expect(grantedCount(lowered)).toBe(10);
    expect(lowered[0]).toMatchObject({ granted: true, requests: { limit: 10, remaining: 9 } });
    expect(await countersOf(own.redis, keyId)).toMatchObject({ requests: 0, leases: 0 });
  });

  it("should count another replica's lease sized for an old limit only until its lifetime ends", async () => {
    const stale = own.limiter({ leaseTtlMs: 100, settleWindowMs: 1 });
    const current = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    await grantedOn(stale, askOf(keyId, { rpm: 1000 }));
    // The stale replica's lease holds 20 requests: under an rpm of 10, nothing is left while it is out.
    expect(await current.reserve(askOf(keyId, { rpm: 10 }), NOTHING_SPENT)).toMatchObject({
      granted: false,
      refusedBy: 'requests',
    });
    await countersOnceLanded(own.redis, keyId, (counters) => counters.leases === 0);
    const answers: Reservation[] = [];
    for (let index = 0; index < 12; index += 1) {
      answers.push(await current.reserve(askOf(keyId, { rpm: 10 }), NOTHING_SPENT));
    }
    expect(grantedCount(answers)).toBe(10);
  });

  it('should let a bucket refill only up to the limit less what leases hold, however long they live', async () => {
    let time = START;
    const clock = (): number => time;
    const holding = own.limiter({ now: clock, leaseTtlMs: 120_000 });
    const other = own.limiter({ now: clock, leaseTtlMs: 120_000 });
    await grantedOn(holding, askOf(keyId, { rpm: 1000 }));
    // A minute on, one bucket would be full again: 1000 requests at this moment, the lease's 20 among them.
    time += 59_000;
    let granted = 0;
    for (let index = 0; index < 1100; index += 1) {
      granted += (await other.reserve(askOf(keyId, { rpm: 1000 }), NOTHING_SPENT)).granted ? 1 : 0;
    }
    for (let index = 0; index < 25; index += 1) {
      granted += (await holding.reserve(askOf(keyId, { rpm: 1000 }), NOTHING_SPENT)).granted ? 1 : 0;
    }
    expect(granted).toBe(1000);
  });

  it('should keep the bucket and the leases within the limit when a reservation made before a refill settles into a newer lease', async () => {
    let time = START;
    const clock = (): number => time;
    // Leases serve 30 s on the clock; their timers, as long, never fire during the test.
    const one = own.limiter({ now: clock, leaseTtlMs: 30_000, settleWindowMs: 1 });
    const two = own.limiter({ now: clock, leaseTtlMs: 30_000, settleWindowMs: 1 });
    const limits: Partial<KeyLimits> = { tpm: 60_000 };
    // The reviewer's scenario: a long request reserves half the tpm; 40 s on the bucket is full again and the
    // first lease has ended, so the next request takes a new one (1 200 tokens); then the long one settles, 100 used.
    const long = await grantedOn(one, askOf(keyId, limits, 30_000));
    time += 40_000;
    await grantedOn(one, askOf(keyId, limits, 100));
    await one.settle(long, { tokens: 100, costUsd: 0 });
    time += 100;
    // Both replicas now reserve all they can at this one moment.
    const ask = askOf(keyId, limits, 1_000);
    let granted = 0;
    for (let wave = 0; wave < 200; wave += 1) {
      const grants = grantedCount(
        await Promise.all([one.reserve(ask, NOTHING_SPENT), two.reserve(ask, NOTHING_SPENT)]),
      );
      if (grants === 0) {
        break;
      }
      granted += grants;
    }
    // One bucket of 60 000 tokens, full, holds 60 asks of 1 000; the leases left at the end hold less than two.
    expect(granted).toBeLessThanOrEqual(60);
    expect(granted).toBeGreaterThanOrEqual(58);
  });

  it("should give back a lease taken under the replica's old holder name under that name, never fold it under the new one", async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS, settleWindowMs: 1 });
    const broken = `key_${randomUUID()}`;
    // Not a bucket: a reservation of that key fails in Redis, and the limiter drops its leases under a new name.
    await own.redis.set(limitKeys(broken, PERIOD).requests, 'not a bucket');
    const renamingWhileSeeded = async (): Promise<number> => {
      await expect(limiter.reserve(askOf(broken, { rpm: 1000 }), NOTHING_SPENT)).rejects.toBeInstanceOf(
        LimiterUnavailableError,
      );
      return 0;
    };
    // The key's first run asks for its budget counter's seed; the name changes while it is read, and the run
    // after it takes the lease under the old name.
    await grantedOn(limiter, askOf(keyId, { rpm: 1000, budgetUsd: 100 }), renamingWhileSeeded);
    // A lower rpm: the lease does not cover the next ask, ends, and a new one (19) is taken under the new name.
    await grantedOn(limiter, askOf(keyId, { rpm: 950, budgetUsd: 100 }));
    const landed = await countersOnceLanded(own.redis, keyId, (counters) => counters.leases === 1);
    // The old lease's room is all back: the bucket is capped at the new rpm, less the second request and its lease.
    expect(landed).toMatchObject({ requests: 950 - 1 - 19, leases: 1 });
  });

  it('should refuse with LimiterUnavailableError once Redis is stopped, a lease in hand or not, and lease again once it is back', async () => {
    const limiter = own.limiter({ leaseTtlMs: LONG_TTL_MS });
    const ask = askOf(keyId, ROOMY, 100, 0.001);
    await grantedOn(limiter, ask);
    await grantedOn(limiter, ask);
    expect(await own.scriptRuns()).toBe(2);
    await own.stop();
    // Its lease may serve until the connection's close arrives (a turn after the stop), but no longer: its room
    // would last 18 more requests.
    const { refusal, served } = await firstRefusal(() => limiter.reserve(ask, NOTHING_SPENT), 18);
    expect(refusal).toBeInstanceOf(LimiterUnavailableError);
    expect(served).toBeLessThanOrEqual(3);
    await expect(limiter.reserve(ask, NOTHING_SPENT)).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(limiter.reserve(ask, NOTHING_SPENT)).rejects.toBeInstanceOf(LimiterUnavailableError);

    await own.restart();
    const deadline = Date.now() + 15_000;
    let answer: Reservation | undefined;
    while (answer === undefined && Date.now() < deadline) {
      answer = await limiter.reserve(ask, NOTHING_SPENT).catch(() => sleep(100).then(() => undefined));
    }
    expect(answer?.granted).toBe(true);
    const leased = await countersOf(own.redis, keyId);
    expect(leased).toMatchObject({ requests: 1000 - 1 - 20, leases: 2 });
    await grantedOn(limiter, ask);
    expect(await countersOf(own.redis, keyId)).toEqual(leased);
  }, 30_000);
});

describe('RedisLimiter leases across replicas', () => {
  let one: RedisLimiter;
  let two: RedisLimiter;
  let keyId: string;

  beforeEach(() => {
    one = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    two = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    keyId = `key_${randomUUID()}`;
  });

  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  /**
   * Waves of 20 parallel reservations of one ask, 10 on each replica, until a wave grants nothing (bounded):
   * every lease taken on the way is used up or given back by the end. Answers the grants.
   */
  async function wavesOnBoth(ask: LimitAsk, settle?: { tokens: number; costUsd: number }): Promise<number> {
    let granted = 0;
    for (let wave = 0; wave < 1000; wave += 1) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, index) => {
          const replica = index % 2 === 0 ? one : two;
          const answer = await replica.reserve(ask, NOTHING_SPENT);
          if (answer.granted && settle !== undefined) {
            await replica.settle(answer, settle);
          }
          return answer;
        }),
      );
      const grants = grantedCount(answers);
      if (grants === 0) {
        return granted;
      }
      granted += grants;
    }
    throw new Error('the waves never ran out of room');
  }

  it('should grant exactly the rpm over two replicas reserving in parallel, from leases and Redis', async () => {
    expect(await wavesOnBoth(askOf(keyId, { rpm: 1000 }))).toBe(1000);
  });

  it('should grant exactly as many asks as the tpm holds over two replicas reserving in parallel', async () => {
    expect(await wavesOnBoth(askOf(keyId, { tpm: 30_000 }, 30))).toBe(1000);
  });

  it('should grant exactly as many asks as the budget holds over two replicas reserving in parallel', async () => {
    expect(await wavesOnBoth(askOf(keyId, { budgetUsd: 1 }, 0, 0.001))).toBe(1000);
  });

  it('should hold every limit at once over two replicas whose requests settle into their leases', async () => {
    // Each request reserves 300 tokens and 0.003 USD and uses 30 and 0.001: the budget (0.001 each) binds first.
    const granted = await wavesOnBoth(askOf(keyId, { rpm: 5000, tpm: 1_000_000, budgetUsd: 2 }, 300, 0.003), {
      tokens: 30,
      costUsd: 0.001,
    });
    await Promise.all([one.close(), two.close()]);
    const redis = new Redis(testRedisUrl());
    try {
      const counters = await countersOf(redis, keyId);
      expect(counters.leases).toBe(0);
      expect(counters.budgetMicros).toBe(granted * 1000);
      expect(counters.budgetMicros).toBeLessThanOrEqual(2_000_000);
      expect(counters.budgetMicros).toBeGreaterThan(2_000_000 - 3000);
      expect(counters.requests).toBe(5000 - granted);
      expect(counters.tokens).toBe(1_000_000 - granted * 30);
    } finally {
      await redis.quit();
    }
  });
});
