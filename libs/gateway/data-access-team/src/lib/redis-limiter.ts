import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { GrantedReservation, KeyLimits, LimitAsk, Reservation } from '@openai-proxy/gateway-util-team';
import { Redis, type Result } from 'ioredis';
import { z } from 'zod';
import { BudgetPeriods, bucketUnits, REQUEST_UNITS, reservationAnswer, toMicros } from './limit-math';
import { Lease, LEASE_TTL_MS, type LeaseReturn, Leases } from './redis-limiter.leases';
import { LEASE_HOLD_MARGIN_MS, RESERVE_SCRIPT, SEED_NEEDED, SETTLE_SCRIPT } from './redis-limiter.scripts';
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
    openaiProxySettleLimits(
      requestsKey: string,
      tokensKey: string,
      budgetKey: string,
      ...args: string[]
    ): Result<unknown, Context>;
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

const levels = [z.number().int().min(0).max(7), z.number(), z.number(), z.number()] as const;
const levelsReply = z.tuple(levels);
const leasedReply = z.tuple([...levels, z.number().min(0), z.number().min(0), z.number().min(0)]);
const ranReply = z.union([levelsReply, leasedReply]);
const reserveReply = z.union([z.tuple([z.literal(SEED_NEEDED)]), levelsReply, leasedReply]);

/**
 * The reserve script's answer when it ran: short bits, requests and tokens levels, charged micro-dollars; then,
 * when it took a lease, the lease's request units, token units and micro-dollars.
 */
type RanReply = z.infer<typeof ranReply>;
type LeasedReply = z.infer<typeof leasedReply>;

/** A reservation run's parameters beside the ask (see RESERVE_SCRIPT). */
interface ReserveRun {
  now: number;
  /** When the budget period ends (null: never). */
  periodEnd: number | null;
  holder: string;
  /** The ended lease given back in the run, if any. */
  folded: LeaseReturn | undefined;
  /** How long a lease taken in the run counts against its buckets' ceilings (ms); undefined: no lease wanted. */
  leaseHoldMs: number | undefined;
}

/** The reserve script's ARGV (see RESERVE_SCRIPT) without its last one, the seed of a missing budget counter. */
function reserveArgs(ask: LimitAsk, run: ReserveRun): string[] {
  const { rpm, tpm, budgetUsd } = ask.limits;
  const { now, periodEnd, folded } = run;
  return [
    String(now),
    rpm === null ? '' : String(rpm),
    tpm === null ? '' : String(tpm),
    String(bucketUnits(ask.tokens)),
    budgetUsd === null ? '' : String(toMicros(budgetUsd)),
    String(toMicros(ask.costUsd)),
    periodEnd === null ? '' : String(periodEnd - now + BUDGET_COUNTER_MARGIN_MS),
    folded === undefined && run.leaseHoldMs === undefined ? '' : run.holder,
    folded === undefined
      ? ''
      : `${folded.requestUnits} ${folded.tokenUnits} ${folded.micros} ${folded.heldRequests} ${folded.heldTokens}`,
    run.leaseHoldMs === undefined ? '' : String(run.leaseHoldMs),
  ];
}

/**
 * The settles and lease give-backs of one key waiting to be sent as one command, summed: the request and token
 * units they give back (negative: take), the micro-dollars they add to the budget counter (negative: give back),
 * and the units the ended leases of `holder` held ('' and 0: no lease). Each settle of the batch resolves with
 * `done`, which follows the command once `send` hands it over.
 */
interface SettleBatch {
  keyId: string;
  period: string;
  rpm: number | null;
  tpm: number | null;
  holder: string;
  requestUnits: number;
  tokenUnits: number;
  micros: number;
  heldRequests: number;
  heldTokens: number;
  done: Promise<void>;
  send: (sent: Promise<void>) => void;
}

/** An empty batch for the settles of a key under these limits and budget period. */
function settleBatch(keyId: string, period: string, limits: KeyLimits): SettleBatch {
  let send: (sent: Promise<void>) => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    send = resolve;
  });
  const { rpm, tpm } = limits;
  return {
    keyId,
    period,
    rpm,
    tpm,
    holder: '',
    requestUnits: 0,
    tokenUnits: 0,
    micros: 0,
    heldRequests: 0,
    heldTokens: 0,
    done,
    send,
  };
}

/**
 * Whether waiting settles (`batch`) and one more under `limits` in `period` (for a lease's give-back, of `holder`)
 * can be sent as one command.
 */
function joins(batch: SettleBatch, period: string, limits: KeyLimits, holder: string): boolean {
  return (
    batch.period === period &&
    batch.rpm === limits.rpm &&
    batch.tpm === limits.tpm &&
    (holder === '' || batch.holder === '' || batch.holder === holder)
  );
}

/** A new name for this replica's leases in Redis. */
function newHolder(): string {
  return randomBytes(9).toString('base64url');
}

/** Settled: what a settle into a lease answers. */
const SETTLED = Promise.resolve();

/**
 * The Redis limiter's options: the server's URL, the clock (injectable so tests are exact), how long a settle
 * that gives back may wait for others of its key (SETTLE_WINDOW_MS unless told), and how long a lease serves
 * (LEASE_TTL_MS unless told).
 */
export interface RedisLimiterOptions {
  redisUrl: string;
  now?: () => number;
  settleWindowMs?: number;
  leaseTtlMs?: number;
}

/**
 * The limits shared by every replica (`REDIS_URL`): limit-math.ts run by one Lua script per reservation (one
 * round trip, two when a budget counter must be seeded from the ledger) and one per batch of settles, so no two
 * replicas can take the same room. The scripts are sent once per connection, then run by their SHA (EVALSHA).
 * Settles that give back wait up to the settle window to be summed per key into one command; close() sends what
 * still waits. Keys expire when idle (buckets once full again plus a minute, a monthly budget counter a day after
 * its month; a whole-life one never).
 *
 * Leases (redis-limiter.leases.ts): while a key has plenty of room, the run that reserves a request also takes a
 * lease, a few percent of its limits, and the key's next requests on this replica are reserved from it in process
 * while it covers them (and settle into it), for at most the lease's lifetime; then what is left goes back with
 * the settles, or in the next run of the key. Near a limit there are no leases: every request is checked in
 * Redis. What a lease holds left the shared limits when it was taken, so the replicas together never grant more.
 *
 * Redis unreachable is never a reason to let requests through: reserve and settle then throw
 * LimiterUnavailableError (within about a second: nothing is queued while disconnected, commands time out, and a
 * command in flight when the connection drops fails then, never sent again), and the client reconnects in the
 * background, so the limits work again as soon as Redis is back. The leases in hand
 * are dropped as soon as the connection drops or a command fails, so a lease never serves while Redis is known to
 * be down; their room is not given back (Redis may have lost its counters, and a give-back to a counter seeded
 * again from the ledger would loosen it): it stays taken, for a minute in the buckets and until the period ends in
 * a budget (at most one lease, 1% of what was left, per key and drop).
 */
export class RedisLimiter implements TeamLimiter {
  private readonly redis: Redis;
  /** host:port, for messages (the URL may hold a password). */
  private readonly address: string;
  private readonly now: () => number;
  private readonly seeds = new SeedReads();
  private readonly periods = new BudgetPeriods();
  private readonly settleWindowMs: number;
  private readonly leaseTtlMs: number;
  private readonly leases: Leases;
  /** The reservation runs that want a lease, by key id: one at a time per key. */
  private readonly leasing = new Map<string, Promise<RanReply>>();
  /** This replica's name for its leases in Redis; a new one after the leases are dropped. */
  private holder = newHolder();
  /** Settles waiting for the window, by key id; and the batches sent and not answered yet. */
  private readonly waitingSettles = new Map<string, SettleBatch>();
  private readonly sentSettles = new Set<Promise<void>>();
  private settleTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;

  constructor(options: RedisLimiterOptions) {
    const url = new URL(options.redisUrl);
    this.address = `${url.hostname}:${url.port === '' ? '6379' : url.port}`;
    this.now = options.now ?? Date.now;
    this.settleWindowMs = options.settleWindowMs ?? SETTLE_WINDOW_MS;
    this.leaseTtlMs = options.leaseTtlMs ?? LEASE_TTL_MS;
    this.leases = new Leases(this.leaseTtlMs, (lease) => this.giveBackUnwatched(lease));
    // No auto-pipelining: measured, its pipeline per tick cost more CPU than the writes it saved unless tens of
    // commands share a tick. A command in flight when the connection drops fails at once and is never sent again:
    // Redis may have run it (only its answer was lost), and a settle or give-back run twice loosens the limits.
    this.redis = new Redis(options.redisUrl, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: REDIS_TIMEOUT_MS,
      commandTimeout: REDIS_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    });
    // Connection errors reach the callers (reserve, settle, ready); without a listener ioredis prints each one.
    this.redis.on('error', () => undefined);
    this.redis.on('close', () => this.dropLeases());
    this.redis.defineCommand('openaiProxyReserveLimits', { numberOfKeys: 3, lua: RESERVE_SCRIPT });
    this.redis.defineCommand('openaiProxySettleLimits', { numberOfKeys: 3, lua: SETTLE_SCRIPT });
  }

  /**
   * Reserves from the key's lease when it covers the ask; otherwise in Redis, giving the lease back in the same
   * run (or with the settles, when the ask meets other keys) and, unless another run of the key already asks for
   * one, asking for a new lease.
   */
  async reserve(ask: LimitAsk, spentUsd: () => Promise<number>): Promise<Reservation> {
    const now = Math.floor(this.now());
    const { budgetPeriod } = ask.limits;
    const period = this.periods.keyAt(budgetPeriod, now);
    let folded: LeaseReturn | undefined;
    const lease = this.leases.get(ask.keyId);
    if (lease !== undefined) {
      if (lease.covers(ask, period, now)) {
        return lease.grant(ask, now);
      }
      this.leases.end(lease);
      if (lease.foldsInto(ask.limits, period, this.holder)) {
        folded = lease.remainder();
      } else {
        this.giveBackUnwatched(lease);
      }
    }
    const keys = limitKeys(ask.keyId, period);
    const wantsLease = !this.closing && !this.leasing.has(ask.keyId);
    const holder = this.holder;
    const args = reserveArgs(ask, {
      now,
      periodEnd: this.periods.endAt(budgetPeriod, now),
      holder,
      folded,
      leaseHoldMs: wantsLease ? this.leaseTtlMs + LEASE_HOLD_MARGIN_MS : undefined,
    });
    const run = (seed: string): Promise<unknown> =>
      this.command(() => this.redis.openaiProxyReserveLimits(keys.requests, keys.tokens, keys.budget, ...args, seed));
    const levels = this.reserveLevels(run, keys.budget, spentUsd);
    let reply: RanReply;
    if (wantsLease) {
      this.leasing.set(ask.keyId, levels);
      try {
        reply = await levels;
      } finally {
        this.leasing.delete(ask.keyId);
      }
    } else {
      reply = await levels;
    }
    if (reply.length === 7) {
      this.keepLease(ask, period, holder, now, reply);
    }
    const [short, requestsLevel, tokensLevel, chargedMicros] = reply;
    return reservationAnswer({ ask, requestsLevel, tokensLevel, chargedMicros, short, now }, period);
  }

  /**
   * Settles into the key's lease in hand when there is one under the same limits and period (given back with it;
   * at once when that overdraws it); tokens it gives back past what the lease was taken with go to Redis. Otherwise
   * adds the settle to its key's batch, sent within the settle window; at once when it takes more than was
   * reserved, or once close() began. Resolves when what went to Redis is applied there.
   */
  settle(reservation: GrantedReservation, actual: { tokens: number; costUsd: number }): Promise<void> {
    const lease = this.leases.get(reservation.keyId);
    if (lease?.takesSettleOf(reservation) === true) {
      if (lease.settle(reservation, actual)) {
        this.leases.end(lease);
        return this.giveBack(lease);
      }
      const excess = lease.takeExcessTokens();
      return excess === 0 ? SETTLED : this.settleInRedis(reservation, excess, 0);
    }
    const tokenUnits = bucketUnits(reservation.tokens) - bucketUnits(actual.tokens);
    const micros = reservation.limits.budgetUsd === null ? 0 : toMicros(actual.costUsd) - toMicros(reservation.costUsd);
    return this.settleInRedis(reservation, tokenUnits, micros);
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
   * Waits for the runs that may bring a lease, gives back every lease in hand, sends the settles still waiting and
   * waits for every settle sent, then quits the connection (or drops it, and stops reconnecting, when it is down).
   * A settle made after this is sent at once (and fails once closed). Closing again waits for the same close.
   */
  close(): Promise<void> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(this.leasing.values());
    for (const lease of this.leases.endAll()) {
      this.giveBackUnwatched(lease);
    }
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
  ): Promise<RanReply> {
    const first = this.parsed(reserveReply, await run(''));
    if (first.length !== 1) {
      return first;
    }
    const spent = await this.seeds.read(counter, spentUsd);
    return this.parsed(ranReply, await run(String(toMicros(spent))));
  }

  /** Puts in hand the lease a run took for `ask` (given back at once when close() began meanwhile). */
  private keepLease(ask: LimitAsk, period: string, holder: string, now: number, reply: LeasedReply): void {
    const [, requestsLevel, tokensLevel, , requests, tokens, micros] = reply;
    const lease = new Lease({
      keyId: ask.keyId,
      limits: ask.limits,
      period,
      holder,
      requests,
      tokens,
      micros,
      requestsLevel: requestsLevel - REQUEST_UNITS - requests,
      tokensLevel: tokensLevel - bucketUnits(ask.tokens) - tokens,
      at: now,
      expiresAt: now + this.leaseTtlMs,
    });
    if (this.closing) {
      this.giveBackUnwatched(lease);
    } else {
      this.leases.add(lease);
    }
  }

  /** Drops every lease in hand without giving it back (see the class comment), under a new holder name. */
  private dropLeases(): void {
    this.leases.endAll();
    this.holder = newHolder();
  }

  /**
   * Adds what is left of an ended lease to its key's batch: sent within the settle window, at once when it was
   * overdrawn. Resolves when its batch is applied in Redis.
   */
  private giveBack(lease: Lease): Promise<void> {
    const { keyId, period, limits, holder } = lease.terms;
    const back = lease.remainder();
    const batch = this.batchFor(keyId, period, limits, holder);
    batch.holder = holder;
    batch.requestUnits += back.requestUnits;
    batch.tokenUnits += back.tokenUnits;
    batch.micros += back.micros;
    batch.heldRequests += back.heldRequests;
    batch.heldTokens += back.heldTokens;
    return this.queue(batch, back.tokenUnits < 0 || back.micros > 0);
  }

  /**
   * Adds token units given back (negative: taken) and micro-dollars added to the counter (negative: given back) of
   * a reservation to its key's batch: sent within the settle window, at once when it takes. Resolves when its batch
   * is applied in Redis.
   */
  private settleInRedis(reservation: GrantedReservation, tokenUnits: number, micros: number): Promise<void> {
    const batch = this.batchFor(reservation.keyId, reservation.budgetPeriodKey, reservation.limits, '');
    batch.tokenUnits += tokenUnits;
    batch.micros += micros;
    return this.queue(batch, tokenUnits < 0 || micros > 0);
  }

  /**
   * giveBack with nobody waiting for it: a failure leaves the lease's room taken (tighter, never looser), and the
   * failed command has dropped the leases in hand.
   */
  private giveBackUnwatched(lease: Lease): void {
    this.giveBack(lease).catch(() => undefined);
  }

  /**
   * The batch waiting for a key's settles under `limits` in `period` (and, for a lease's give-back, of `holder`;
   * '' for a settle): the waiting one when they can be sent together, else a new one (the waiting one is sent).
   */
  private batchFor(keyId: string, period: string, limits: KeyLimits, holder: string): SettleBatch {
    const waiting = this.waitingSettles.get(keyId);
    if (waiting !== undefined && joins(waiting, period, limits, holder)) {
      return waiting;
    }
    if (waiting !== undefined) {
      this.sendSettles(waiting);
    }
    const batch = settleBatch(keyId, period, limits);
    this.waitingSettles.set(keyId, batch);
    return batch;
  }

  /** Sends the batch now (`now`, or once close() began), else within the settle window; resolves with it. */
  private queue(batch: SettleBatch, now: boolean): Promise<void> {
    if (now || this.closing) {
      this.sendSettles(batch);
    } else {
      this.settleTimer ??= setTimeout(() => this.sendWaitingSettles(), this.settleWindowMs);
    }
    return batch.done;
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
        keys.requests,
        keys.tokens,
        keys.budget,
        String(Math.floor(this.now())),
        batch.rpm === null ? '' : String(batch.rpm),
        batch.tpm === null ? '' : String(batch.tpm),
        String(batch.requestUnits),
        String(batch.tokenUnits),
        String(batch.micros),
        batch.holder === '' ? '' : `${batch.holder} ${batch.heldRequests} ${batch.heldTokens}`,
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

  /** Runs a command once connected; any failure drops the leases in hand and becomes LimiterUnavailableError. */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    try {
      if (this.redis.status !== 'ready') {
        await this.connected();
      }
      return await run();
    } catch (error) {
      this.dropLeases();
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
