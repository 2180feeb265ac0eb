import { once } from 'node:events';
import {
  budgetPeriodEnd,
  budgetPeriodKey,
  type GrantedReservation,
  type LimitAsk,
  type Reservation,
} from '@openai-proxy/gateway-util-team';
import { Redis, type Result } from 'ioredis';
import { z } from 'zod';
import { bucketUnits, LIMIT_NAMES, limitTake, reservationAnswer, toMicros } from './limit-math';
import { RESERVE_SCRIPT, SEED_NEEDED, SETTLE_SCRIPT, SHORT_BITS } from './redis-limiter.scripts';
import { SeedReads } from './team-limiter.seeds';
import { LimiterUnavailableError, type TeamLimiter } from './team-store.types';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** RESERVE_SCRIPT (redis-limiter.scripts.ts). */
    openaiProxyReserveLimits(
      requestsKey: string,
      tokensKey: string,
      budgetKey: string,
      ...args: string[]
    ): Result<unknown, Context>;
    /** SETTLE_SCRIPT (redis-limiter.scripts.ts). */
    openaiProxySettleLimits(tokensKey: string, budgetKey: string, ...args: string[]): Result<unknown, Context>;
  }
}

/** How long a connection, a command, or a wait for the connection may take before the limiter gives up. */
const REDIS_TIMEOUT_MS = 1_000;
/** Reconnection: 100 ms more after each failed attempt, at most 2 s apart; it never stops trying. */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 2_000;
/** How long a monthly budget counter outlives its month, so that settles of requests still in flight land. */
const BUDGET_COUNTER_MARGIN_MS = 24 * 60 * 60_000;

/** Every Redis key of the limits starts so; `{keyId}` keeps one key's three in one Redis Cluster slot. */
const LIMIT_KEY_PREFIX = 'openai-proxy:limits:';

/** The Redis keys of one gateway key's limits (named by the key's id, never its secret). */
export interface LimitKeys {
  requests: string;
  tokens: string;
  budget: string;
}

/** The Redis keys of a gateway key's buckets and of its budget counter for one period. */
export function limitKeys(keyId: string, period: string): LimitKeys {
  const base = `${LIMIT_KEY_PREFIX}{${keyId}}`;
  return { requests: `${base}:requests`, tokens: `${base}:tokens`, budget: `${base}:budget:${period}` };
}

const levelsReply = z.tuple([z.number().int().min(0).max(7), z.number(), z.number(), z.number()]);
const reserveReply = z.union([z.tuple([z.literal(SEED_NEEDED)]), levelsReply]);

/** The reserve script's answer when it ran: short bits, requests and tokens levels, charged micro-dollars. */
type LevelsReply = z.infer<typeof levelsReply>;

/** The reserve script's ARGV (see RESERVE_SCRIPT); `seed` is the missing budget counter's, or empty. */
function reserveArgs(ask: LimitAsk, now: number, seed: string): string[] {
  const { limits } = ask;
  const take = limitTake(ask);
  const end = budgetPeriodEnd(limits.budgetPeriod, new Date(now));
  return [
    String(now),
    limits.rpm === null ? '' : String(limits.rpm),
    limits.tpm === null ? '' : String(limits.tpm),
    String(take.tokens),
    limits.budgetUsd === null ? '' : String(toMicros(limits.budgetUsd)),
    String(take.micros),
    end === null ? '' : String(end.getTime() - now + BUDGET_COUNTER_MARGIN_MS),
    seed,
  ];
}

/** The Redis limiter's options: the server's URL, and the clock (injectable so tests are exact). */
export interface RedisLimiterOptions {
  redisUrl: string;
  now?: () => number;
}

/**
 * The limits shared by every replica (`REDIS_URL`): limit-math.ts run by one Lua script per reservation and one per
 * settle, so no two replicas can take the same room. Keys expire when idle (buckets once full again plus a minute,
 * a monthly budget counter a day after its month; a whole-life one never).
 *
 * Redis unreachable is never a reason to let requests through: reserve and settle then throw
 * LimiterUnavailableError (within about a second: nothing is queued while disconnected, commands time out), and
 * the client reconnects in the background, so the limits work again as soon as Redis is back.
 */
export class RedisLimiter implements TeamLimiter {
  private readonly redis: Redis;
  /** host:port, for messages (the URL may hold a password). */
  private readonly address: string;
  private readonly now: () => number;
  private readonly seeds = new SeedReads();
  private connecting: Promise<void> | undefined;

  constructor(options: RedisLimiterOptions) {
    const url = new URL(options.redisUrl);
    this.address = `${url.hostname}:${url.port === '' ? '6379' : url.port}`;
    this.now = options.now ?? Date.now;
    this.redis = new Redis(options.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: REDIS_TIMEOUT_MS,
      commandTimeout: REDIS_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    });
    // Connection errors reach the callers (reserve, settle, ready); without a listener ioredis prints each one.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('openaiProxyReserveLimits', { numberOfKeys: 3, lua: RESERVE_SCRIPT });
    this.redis.defineCommand('openaiProxySettleLimits', { numberOfKeys: 2, lua: SETTLE_SCRIPT });
  }

  async reserve(ask: LimitAsk, spentUsd: () => Promise<number>): Promise<Reservation> {
    const now = Math.floor(this.now());
    const { limits } = ask;
    const keys = limitKeys(ask.keyId, budgetPeriodKey(limits.budgetPeriod, new Date(now)));
    const run = (seed: string): Promise<unknown> =>
      this.command(() =>
        this.redis.openaiProxyReserveLimits(keys.requests, keys.tokens, keys.budget, ...reserveArgs(ask, now, seed)),
      );
    const [mask, requests, tokens, chargedMicros] = await this.reserveLevels(run, keys.budget, spentUsd);
    const short = LIMIT_NAMES.filter((name) => (mask & SHORT_BITS[name]) !== 0);
    const levels = {
      requests: limits.rpm === null ? undefined : requests,
      tokens: limits.tpm === null ? undefined : tokens,
      chargedMicros: limits.budgetUsd === null ? undefined : chargedMicros,
    };
    return reservationAnswer({ ask, levels, short, now });
  }

  async settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void> {
    const { tpm, budgetUsd } = reservation.limits;
    const keys = limitKeys(reservation.keyId, reservation.budgetPeriodKey);
    const back = bucketUnits(reservation.tokens) - bucketUnits(actual.tokens);
    const extra = budgetUsd === null ? 0 : toMicros(actual.costUsd) - toMicros(reservation.costUsd);
    await this.command(() =>
      this.redis.openaiProxySettleLimits(
        keys.tokens,
        keys.budget,
        String(Math.floor(this.now())),
        tpm === null ? '' : String(tpm),
        String(back),
        String(extra),
      ),
    );
  }

  /** A PING: false when Redis does not answer (for /readyz). */
  async ready(): Promise<boolean> {
    try {
      await this.connected();
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Quits the connection (or drops it, and stops reconnecting, when it is down). */
  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /**
   * The reserve script's answer; when it needs the budget counter's seed, reads what the key spent (one read per
   * counter at a time) and runs it again with it.
   */
  private async reserveLevels(
    run: (seed: string) => Promise<unknown>,
    counter: string,
    spentUsd: () => Promise<number>,
  ): Promise<LevelsReply> {
    const first = this.parsed(reserveReply, await run(''));
    if (first.length === 4) {
      return first;
    }
    const spent = await this.seeds.read(counter, spentUsd);
    return this.parsed(levelsReply, await run(String(toMicros(spent))));
  }

  private parsed<T>(schema: z.ZodType<T>, reply: unknown): T {
    const result = schema.safeParse(reply);
    if (!result.success) {
      throw this.unavailable(new Error(`unexpected answer of the limits script: ${JSON.stringify(reply)}`));
    }
    return result.data;
  }

  /** Runs a command once connected; any failure becomes LimiterUnavailableError. */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    try {
      await this.connected();
      return await run();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /**
   * Waits (at most REDIS_TIMEOUT_MS) for the connection when it is not ready yet: the first one at start, or a
   * reconnection under way. Every waiting call shares one wait, which ends at the next 'ready' or 'error'.
   */
  private async connected(): Promise<void> {
    if (this.redis.status === 'ready') {
      return;
    }
    this.connecting ??= once(this.redis, 'ready')
      .then(() => undefined)
      .finally(() => {
        this.connecting = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not connected within ${REDIS_TIMEOUT_MS} ms (${this.redis.status})`)),
        REDIS_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.connecting, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(cause: unknown): LimiterUnavailableError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new LimiterUnavailableError(`Redis at ${this.address} is unavailable for the team limits: ${reason}`);
  }
}
