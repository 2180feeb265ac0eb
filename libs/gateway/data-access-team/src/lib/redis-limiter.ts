import { once } from 'node:events';
import type { GrantedReservation, LimitAsk, Reservation } from '@openai-proxy/gateway-util-team';
import { Redis, type Result } from 'ioredis';
import { z } from 'zod';
import { BudgetPeriods, bucketUnits, reservationAnswer, toMicros } from './limit-math';
import { RESERVE_SCRIPT, SEED_NEEDED, SETTLE_SCRIPT } from './redis-limiter.scripts';
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
/**
 * How long a settle that gives back may wait to be sent with the other settles of its key. A settle only gives
 * back what a request reserved and did not use, so sending it a little later only keeps the limits tighter for
 * that while; a settle that takes more than was reserved is sent at once.
 */
export const SETTLE_WINDOW_MS = 5;

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

/**
 * The reserve script's ARGV (see RESERVE_SCRIPT) without its last one, the seed of a missing budget counter;
 * `periodEnd` is when the budget period ends (null: never).
 */
function reserveArgs(ask: LimitAsk, now: number, periodEnd: number | null): string[] {
  const { rpm, tpm, budgetUsd } = ask.limits;
  return [
    String(now),
    rpm === null ? '' : String(rpm),
    tpm === null ? '' : String(tpm),
    String(bucketUnits(ask.tokens)),
    budgetUsd === null ? '' : String(toMicros(budgetUsd)),
    String(toMicros(ask.costUsd)),
    periodEnd === null ? '' : String(periodEnd - now + BUDGET_COUNTER_MARGIN_MS),
  ];
}

/**
 * The settles of one key waiting to be sent as one command: the token units they give back (negative: take) and
 * the micro-dollars they add to the budget counter (negative: give back), summed. Each settle of the batch
 * resolves with `done`, which follows the command once `send` hands it over.
 */
interface SettleBatch {
  keyId: string;
  period: string;
  tpm: number | null;
  tokenUnits: number;
  micros: number;
  done: Promise<void>;
  send: (sent: Promise<void>) => void;
}

/** An empty batch for the settles of a key under these limits and budget period. */
function settleBatch(keyId: string, period: string, tpm: number | null): SettleBatch {
  let send: (sent: Promise<void>) => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    send = resolve;
  });
  return { keyId, period, tpm, tokenUnits: 0, micros: 0, done, send };
}

/**
 * The Redis limiter's options: the server's URL, the clock (injectable so tests are exact), and how long a settle
 * that gives back may wait for others of its key (SETTLE_WINDOW_MS unless told).
 */
export interface RedisLimiterOptions {
  redisUrl: string;
  now?: () => number;
  settleWindowMs?: number;
}

/**
 * The limits shared by every replica (`REDIS_URL`): limit-math.ts run by one Lua script per reservation (one
 * round trip, two when a budget counter must be seeded from the ledger) and one per batch of settles, so no two
 * replicas can take the same room. The scripts are sent once per connection, then run by their SHA (EVALSHA).
 * Settles that give back wait up to the settle window to be summed per key into one command; close() sends what
 * still waits. Keys expire when idle (buckets once full again plus a minute, a monthly budget counter a day after
 * its month; a whole-life one never).
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
  private readonly periods = new BudgetPeriods();
  private readonly settleWindowMs: number;
  /** Settles waiting for the window, by key id; and the batches sent and not answered yet. */
  private readonly waitingSettles = new Map<string, SettleBatch>();
  private readonly sentSettles = new Set<Promise<void>>();
  private settleTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private connecting: Promise<void> | undefined;

  constructor(options: RedisLimiterOptions) {
    const url = new URL(options.redisUrl);
    this.address = `${url.hostname}:${url.port === '' ? '6379' : url.port}`;
    this.now = options.now ?? Date.now;
    this.settleWindowMs = options.settleWindowMs ?? SETTLE_WINDOW_MS;
    // No auto-pipelining: measured, its pipeline per tick cost more CPU than the writes it saved unless tens of
    // commands share a tick.
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
    const { budgetPeriod } = ask.limits;
    const period = this.periods.keyAt(budgetPeriod, now);
    const keys = limitKeys(ask.keyId, period);
    const args = reserveArgs(ask, now, this.periods.endAt(budgetPeriod, now));
    const run = (seed: string): Promise<unknown> =>
      this.command(() => this.redis.openaiProxyReserveLimits(keys.requests, keys.tokens, keys.budget, ...args, seed));
    const [short, requestsLevel, tokensLevel, chargedMicros] = await this.reserveLevels(run, keys.budget, spentUsd);
    return reservationAnswer({ ask, requestsLevel, tokensLevel, chargedMicros, short, now }, period);
  }

  /**
   * Adds the settle to its key's batch, sent within the settle window; at once when it takes more than was
   * reserved, or once close() began. Resolves when its batch is applied in Redis.
   */
  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void> {
    const { keyId, budgetPeriodKey: period } = reservation;
    const { tpm, budgetUsd } = reservation.limits;
    const tokenUnits = bucketUnits(reservation.tokens) - bucketUnits(actual.tokens);
    const micros = budgetUsd === null ? 0 : toMicros(actual.costUsd) - toMicros(reservation.costUsd);
    let batch = this.waitingSettles.get(keyId);
    if (batch !== undefined && (batch.period !== period || batch.tpm !== tpm)) {
      this.sendSettles(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = settleBatch(keyId, period, tpm);
      this.waitingSettles.set(keyId, batch);
    }
    batch.tokenUnits += tokenUnits;
    batch.micros += micros;
    if (tokenUnits < 0 || micros > 0 || this.closing) {
      this.sendSettles(batch);
    } else {
      this.settleTimer ??= setTimeout(() => this.sendWaitingSettles(), this.settleWindowMs);
    }
    return batch.done;
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

  /**
   * Sends the settles still waiting and waits for every settle sent, then quits the connection (or drops it, and
   * stops reconnecting, when it is down). A settle made after this is sent at once (and fails once closed).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.sendWaitingSettles();
    await Promise.allSettled(this.sentSettles);
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

  /** Sends every batch of settles that waits for the window. */
  private sendWaitingSettles(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    for (const batch of this.waitingSettles.values()) {
      this.sendSettles(batch);
    }
  }

  /** Sends one batch of settles (SETTLE_SCRIPT) and lets its settles follow the command. */
  private sendSettles(batch: SettleBatch): void {
    this.waitingSettles.delete(batch.keyId);
    const keys = limitKeys(batch.keyId, batch.period);
    const sent = this.command(() =>
      this.redis.openaiProxySettleLimits(
        keys.tokens,
        keys.budget,
        String(Math.floor(this.now())),
        batch.tpm === null ? '' : String(batch.tpm),
        String(batch.tokenUnits),
        String(batch.micros),
      ),
    ).then(() => undefined);
    const tracked = sent.catch(() => undefined).finally(() => this.sentSettles.delete(tracked));
    this.sentSettles.add(tracked);
    batch.send(sent);
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
      if (this.redis.status !== 'ready') {
        await this.connected();
      }
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
