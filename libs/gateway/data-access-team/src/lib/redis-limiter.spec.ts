import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { GrantedReservation, KeyLimits, LimitAsk, Reservation } from '@openai-proxy/gateway-util-team';
import {
  closeServer,
  freeLoopbackPort,
  listenOnLoopback,
  startRedisServer,
  testRedisUrl,
} from '@openai-proxy/testing-fakes';
import { Redis } from 'ioredis';
import { limitKeys, RedisLimiter } from './redis-limiter';
import { LimiterUnavailableError } from './team-store.types';
import { firstRefusal } from './__fixtures__/first-refusal';

const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const FEBRUARY = Date.UTC(2026, 1, 1);
const DAY_MS = 24 * 60 * 60_000;
const NO_LIMITS: KeyLimits = { rpm: null, tpm: null, budgetUsd: null, budgetPeriod: 'monthly' };
const NOTHING_SPENT = (): Promise<number> => Promise.resolve(0);
/** How long a test waits for a restarted Redis to be used again (the client retries at most 2 s apart). */
const RECOVERY_DEADLINE_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function askOf(keyId: string, limits: Partial<KeyLimits>, tokens = 0, costUsd = 0): LimitAsk {
  return { keyId, limits: { ...NO_LIMITS, ...limits }, tokens, costUsd };
}

function grantedCount(reservations: readonly Reservation[]): number {
  return reservations.filter((reservation) => reservation.granted).length;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * A TCP relay on 127.0.0.1 in front of a Redis that, once told, cuts the connection instead of passing on the next
 * answer: the command ran in Redis and the client never hears so, as when a connection drops at the wrong moment.
 */
class AnswerCuttingRelay {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private cutting = false;
  /** Its `redis://` URL, once started. */
  url = '';

  private constructor(targetPort: number) {
    this.server = createServer((client) => this.splice(client, connect({ host: '127.0.0.1', port: targetPort })));
  }

  /** Starts a relay to the Redis at `redisUrl`. */
  static async start(redisUrl: string): Promise<AnswerCuttingRelay> {
    const relay = new AnswerCuttingRelay(Number(new URL(redisUrl).port));
    const { port } = await listenOnLoopback(relay.server);
    relay.url = `redis://127.0.0.1:${port}`;
    return relay;
  }

  /** Cuts the connection that brings the next answer, in place of passing it on. */
  cutAtNextAnswer(): void {
    this.cutting = true;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }

  private splice(client: Socket, redis: Socket): void {
    for (const socket of [client, redis]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        redis.destroy();
      });
    }
    client.on('data', (bytes: Buffer) => redis.write(bytes));
    redis.on('data', (bytes: Buffer) => {
      if (this.cutting) {
        this.cutting = false;
        client.destroy();
        return;
      }
      client.write(bytes);
    });
  }
}

describe('RedisLimiter across replicas', () => {
  let one: RedisLimiter;
  let two: RedisLimiter;

  beforeEach(() => {
    one = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    two = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
  });

  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  /** 100 parallel reservations of one ask, shared by the two replicas in turn. */
  function parallelOnBoth(ask: LimitAsk): Promise<Reservation[]> {
    return Promise.all(
      Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? one : two).reserve(ask, NOTHING_SPENT)),
    );
  }

  it('should grant exactly the rpm of 100 parallel requests spread over two replicas', async () => {
    expect(grantedCount(await parallelOnBoth(askOf(`key_${randomUUID()}`, { rpm: 10 })))).toBe(10);
  });

  it('should grant exactly as many parallel asks as the tpm holds, over two replicas', async () => {
    expect(grantedCount(await parallelOnBoth(askOf(`key_${randomUUID()}`, { tpm: 1000 }, 30)))).toBe(33);
  });

  it('should grant exactly as many parallel asks as the budget holds, over two replicas', async () => {
    expect(grantedCount(await parallelOnBoth(askOf(`key_${randomUUID()}`, { budgetUsd: 1 }, 0, 0.3)))).toBe(3);
  });
});

describe('RedisLimiter keys', () => {
  let redis: Redis;
  let limiter: RedisLimiter;
  let keyId: string;

  beforeEach(() => {
    redis = new Redis(testRedisUrl());
    limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    keyId = `key_${randomUUID()}`;
  });

  afterEach(async () => {
    await limiter.close();
    await redis.quit();
  });

  it('should name its keys by the key id under openai-proxy:limits:, one Redis Cluster slot per key', async () => {
    await limiter.reserve(askOf(keyId, { rpm: 10, tpm: 1000, budgetUsd: 1 }, 100, 0.1), NOTHING_SPENT);
    const keys = await redis.keys(`openai-proxy:limits:{${keyId}}:*`);
    expect(keys.sort()).toEqual(
      [
        `openai-proxy:limits:{${keyId}}:budget:2026-01`,
        `openai-proxy:limits:{${keyId}}:requests`,
        `openai-proxy:limits:{${keyId}}:tokens`,
      ].sort(),
    );
    expect(await redis.get(limitKeys(keyId, '2026-01').budget)).toBe('100000');
  });

  it('should let a bucket expire a minute after it would be full again', async () => {
    await limiter.reserve(askOf(keyId, { rpm: 10, tpm: 1000 }, 500), NOTHING_SPENT);
    const keys = limitKeys(keyId, '2026-01');
    const requestsTtl = await redis.pttl(keys.requests);
    const tokensTtl = await redis.pttl(keys.tokens);
    expect(requestsTtl).toBeGreaterThan(60_000);
    expect(requestsTtl).toBeLessThanOrEqual(6_000 + 60_000);
    expect(tokensTtl).toBeGreaterThan(6_000 + 60_000);
    expect(tokensTtl).toBeLessThanOrEqual(30_000 + 60_000);
  });

  it('should keep a monthly budget counter until a day after its month, and a whole-life one for good', async () => {
    await limiter.reserve(askOf(keyId, { budgetUsd: 1 }, 0, 0.1), NOTHING_SPENT);
    await limiter.reserve(askOf(keyId, { budgetUsd: 1, budgetPeriod: 'total' }, 0, 0.1), NOTHING_SPENT);
    const monthlyTtl = await redis.pttl(limitKeys(keyId, '2026-01').budget);
    expect(monthlyTtl).toBeGreaterThan(FEBRUARY - START + DAY_MS - 60_000);
    expect(monthlyTtl).toBeLessThanOrEqual(FEBRUARY - START + DAY_MS);
    expect(await redis.pttl(limitKeys(keyId, 'total').budget)).toBe(-1);
  });

  it('should seed the budget counter again from the ledger when Redis has lost it', async () => {
    let reads = 0;
    const spentUsd = (): Promise<number> => {
      reads += 1;
      return Promise.resolve(0.5);
    };
    await limiter.reserve(askOf(keyId, { budgetUsd: 1 }, 0, 0.1), spentUsd);
    await redis.del(limitKeys(keyId, '2026-01').budget);
    await limiter.reserve(askOf(keyId, { budgetUsd: 1 }, 0, 0.2), spentUsd);
    expect(reads).toBe(2);
    expect(await redis.get(limitKeys(keyId, '2026-01').budget)).toBe('700000');
  });
});

describe('RedisLimiter settles', () => {
  const MINUTE_UNITS = 60_000;
  /** A settle window no test waits for: what it holds reaches Redis only when a take or close() sends it. */
  const LONG_WINDOW_MS = 60_000;
  /** How long a test waits for a settle to land with nothing else happening (far more than the window). */
  const LANDING_DEADLINE_MS = 2_000;
  let redis: Redis;
  let keyId: string;

  beforeEach(() => {
    redis = new Redis(testRedisUrl());
    keyId = `key_${randomUUID()}`;
  });

  afterEach(async () => {
    await redis.quit();
  });

  /** The tokens bucket's level in Redis, in tokens. */
  async function tokensLevel(period = '2026-01'): Promise<number> {
    return Number(await redis.hget(limitKeys(keyId, period).tokens, 'level')) / MINUTE_UNITS;
  }

  async function budgetCounter(period = '2026-01'): Promise<string | null> {
    return redis.get(limitKeys(keyId, period).budget);
  }

  async function grantedOn(limiter: RedisLimiter, ask: LimitAsk): Promise<GrantedReservation> {
    const answer = await limiter.reserve(ask, NOTHING_SPENT);
    if (!answer.granted) {
      throw new Error(`expected a grant, got a refusal by ${answer.refusedBy}`);
    }
    return answer;
  }

  it('should sum the give-backs of one key into one command, run by its SHA once the script is loaded', async () => {
    const server = await startRedisServer();
    const own = new Redis(server.url);
    const limiter = new RedisLimiter({ redisUrl: server.url, now: () => START });
    try {
      const ask = askOf(keyId, { tpm: 1000, budgetUsd: 1 }, 100, 0.1);
      const reservations = [
        await grantedOn(limiter, ask),
        await grantedOn(limiter, ask),
        await grantedOn(limiter, ask),
      ];
      await Promise.all(reservations.map((reservation) => limiter.settle(reservation, { tokens: 0, costUsd: 0.05 })));
      const keys = limitKeys(keyId, '2026-01');
      expect(Number(await own.hget(keys.tokens, 'level')) / MINUTE_UNITS).toBe(1000);
      expect(await own.get(keys.budget)).toBe('150000');
      // Four runs of the reserve script (the first asked for the budget counter's seed) and one of the settle
      // script for the three settles; each script sent whole once on the connection, then by its SHA.
      const stats = await own.info('commandstats');
      const calls = (command: string): number =>
        Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      expect({ eval: calls('eval'), evalsha: calls('evalsha') }).toEqual({ eval: 2, evalsha: 3 });
    } finally {
      await limiter.close();
      await own.quit();
      await server.stop();
    }
  });

  it('should let a give-back reach Redis within the settle window with nothing else happening', async () => {
    const limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    try {
      const reservation = await grantedOn(limiter, askOf(keyId, { tpm: 1000 }, 100));
      let settled = false;
      const settling = limiter.settle(reservation, { tokens: 40, costUsd: 0 }).then(() => {
        settled = true;
      });
      const deadline = Date.now() + LANDING_DEADLINE_MS;
      while ((await tokensLevel()) !== 960 && Date.now() < deadline) {
        await sleep(5);
      }
      expect(await tokensLevel()).toBe(960);
      await settling;
      expect(settled).toBe(true);
    } finally {
      await limiter.close();
    }
  });

  it('should keep give-backs waiting for the window, and send every one of them at close', async () => {
    let time = START;
    const limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => time, settleWindowMs: LONG_WINDOW_MS });
    const settles: Promise<void>[] = [];
    try {
      const ask = askOf(keyId, { tpm: 1000, budgetUsd: 1 }, 100, 0.5);
      const january = await grantedOn(limiter, ask);
      settles.push(limiter.settle(january, { tokens: 10, costUsd: 0.2 }));
      // A PING on the limiter's connection: whatever it had sent before is applied by now.
      await expect(limiter.ready()).resolves.toBe(true);
      expect(await budgetCounter('2026-01')).toBe('500000');
      time = FEBRUARY + 1;
      const february = await grantedOn(limiter, ask);
      // Another month's settle of the key sends January's batch on its way and starts its own.
      settles.push(limiter.settle(february, { tokens: 20, costUsd: 0.1 }));
    } finally {
      await limiter.close();
    }
    await Promise.all(settles);
    expect([await budgetCounter('2026-01'), await budgetCounter('2026-02')]).toEqual(['200000', '100000']);
    // Full again by February, the bucket gave February's reservation 100 tokens; 90 and 80 came back (above the
    // limit until the next refill caps it).
    expect(await tokensLevel()).toBe(1000 - 100 + 90 + 80);
  });

  it('should send at once a settle that takes more than was reserved, with the give-backs of its key', async () => {
    const limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START, settleWindowMs: LONG_WINDOW_MS });
    try {
      const ask = askOf(keyId, { tpm: 1000 }, 100);
      const first = await grantedOn(limiter, ask);
      const second = await grantedOn(limiter, ask);
      const giveBack = limiter.settle(first, { tokens: 0, costUsd: 0 });
      await limiter.settle(second, { tokens: 150, costUsd: 0 });
      await giveBack;
      expect(await tokensLevel()).toBe(1000 - 200 + 100 - 50);
    } finally {
      await limiter.close();
    }
  });

  it('should refill a bucket no faster than its lowered limit when a reservation made under the old one settles', async () => {
    let time = START;
    const limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => time, settleWindowMs: 1 });
    try {
      // 2 000 tokens: more than a lease would hold (2% of 60 000), so every step here runs in Redis.
      const before = await grantedOn(limiter, askOf(keyId, { tpm: 60_000 }, 2_000));
      // The tpm is lowered to 600 (10 tokens a second) and a request takes all of it.
      await grantedOn(limiter, askOf(keyId, { tpm: 600 }, 600));
      time += 1_000;
      await limiter.settle(before, { tokens: 1_999, costUsd: 0 });
      let granted = 0;
      for (let index = 0; index < 700; index += 1) {
        if (!(await limiter.reserve(askOf(keyId, { tpm: 600 }, 1), NOTHING_SPENT)).granted) {
          break;
        }
        granted += 1;
      }
      // A second at 10 tokens a second, and the one token given back (at the old rate: 1 000, capped at 600).
      expect(granted).toBe(10 + 1);
    } finally {
      await limiter.close();
    }
  });

  it('should apply a settle whose answer was lost with the connection once, never again on the next connection', async () => {
    const relay = await AnswerCuttingRelay.start(testRedisUrl());
    const limiter = new RedisLimiter({ redisUrl: relay.url, now: () => START, settleWindowMs: 1 });
    try {
      const reservation = await grantedOn(limiter, askOf(keyId, { tpm: 1000 }, 100));
      relay.cutAtNextAnswer();
      const outcome = await limiter.settle(reservation, { tokens: 0, costUsd: 0 }).then(
        () => 'settled',
        (error: unknown) => error,
      );
      // Once the limiter is connected again, whatever it sent on the new connection has been applied.
      const deadline = Date.now() + RECOVERY_DEADLINE_MS;
      while (!(await limiter.ready()) && Date.now() < deadline) {
        await sleep(50);
      }
      expect(await tokensLevel()).toBe(1000 - 100 + 100);
      // It may or may not have been applied, as far as the limiter knows: the settle says it failed.
      expect(outcome).toBeInstanceOf(LimiterUnavailableError);
      expect(await limiter.reserve(askOf(keyId, { tpm: 1000 }, 100), NOTHING_SPENT)).toMatchObject({ granted: true });
    } finally {
      await limiter.close();
      await relay.close();
    }
  });

  it('should refuse a settle made after close with LimiterUnavailableError, not drop it', async () => {
    const limiter = new RedisLimiter({ redisUrl: testRedisUrl(), now: () => START });
    const reservation = await grantedOn(limiter, askOf(keyId, { tpm: 1000 }, 100));
    await limiter.close();
    await expect(limiter.settle(reservation, { tokens: 0, costUsd: 0 })).rejects.toBeInstanceOf(
      LimiterUnavailableError,
    );
  });
});

describe('RedisLimiter when Redis is down', () => {
  it('should refuse with LimiterUnavailableError while Redis is stopped, and work again once it is back', async () => {
    let server = await startRedisServer();
    const limiter = new RedisLimiter({ redisUrl: server.url, now: () => START });
    const keyId = `key_${randomUUID()}`;
    const ask = askOf(keyId, { rpm: 100 });
    try {
      const granted = await limiter.reserve(ask, NOTHING_SPENT);
      if (!granted.granted) {
        throw new Error('expected a grant while Redis runs');
      }
      await server.stop();

      const startedAt = Date.now();
      // A lease taken by the first grant may serve until the connection's close arrives, a turn after the stop.
      const { refusal: error, served } = await firstRefusal(() => limiter.reserve(ask, NOTHING_SPENT), 10);
      expect(Date.now() - startedAt).toBeLessThan(3_000);
      expect(served).toBeLessThanOrEqual(3);
      expect(error).toBeInstanceOf(LimiterUnavailableError);
      expect(String(error)).toContain(`Redis at 127.0.0.1:${server.port}`);
      if (granted.granted) {
        await expect(limiter.settle(granted, { tokens: 0, costUsd: 0 })).rejects.toBeInstanceOf(
          LimiterUnavailableError,
        );
      }
      await expect(limiter.ready()).resolves.toBe(false);

      server = await startRedisServer(server.port);
      const deadline = Date.now() + RECOVERY_DEADLINE_MS;
      let answer: Reservation | undefined;
      while (answer === undefined && Date.now() < deadline) {
        answer = await limiter.reserve(ask, NOTHING_SPENT).catch(() => sleep(100).then(() => undefined));
      }
      expect(answer?.granted).toBe(true);
      await expect(limiter.ready()).resolves.toBe(true);
    } finally {
      await limiter.close();
      await server.stop();
    }
  }, 30_000);

  it('should name Redis and its address, never the password of its URL', async () => {
    const port = await freeLoopbackPort();
    const limiter = new RedisLimiter({ redisUrl: `redis://:hunter2-secret@127.0.0.1:${port}` });
    try {
      const error = await rejectionOf(limiter.reserve(askOf(`key_${randomUUID()}`, { rpm: 1 }), NOTHING_SPENT));
      expect(error).toBeInstanceOf(LimiterUnavailableError);
      expect(String(error)).toContain(`Redis at 127.0.0.1:${port}`);
      expect(String(error)).not.toContain('hunter2-secret');
      await expect(limiter.ready()).resolves.toBe(false);
    } finally {
      await limiter.close();
    }
  });
});
