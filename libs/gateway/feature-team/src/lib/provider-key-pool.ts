import {
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  type IHalfOpenAfterBackoffContext,
  type CircuitBreakerPolicy,
  circuitBreaker,
  handleAll,
} from 'cockatiel';
import { SHOULD_RETRY_HEADER } from '@openai-proxy/data-access-upstream';
import type { BreakerView } from '@openai-proxy/feature-platform';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

/** Why a provider refused a key: its status, and how long it asked us to wait (Retry-After), if it said. */
export class KeyRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`provider key refused with ${status}`);
    this.name = 'KeyRefusedError';
  }
}

/** How long a key rests after a refusal: a rejected key (401) long, a busy one (429) and a failing one (5xx) less, growing with each refusal in a row; Retry-After when the provider gave one. */
export function restMs(refusal: unknown, attempt: number): number {
  if (!(refusal instanceof KeyRefusedError)) {
    return 1_000;
  }
  if (refusal.retryAfterMs !== undefined) {
    return Math.min(refusal.retryAfterMs, 5 * 60_000);
  }
  const growth = 2 ** Math.min(Math.max(attempt - 1, 0), 6);
  if (refusal.status === KEY_REJECTED_STATUS) {
    return 5 * 60_000;
  }
  return refusal.status === 429 ? Math.min(10_000 * growth, 60_000) : Math.min(2_000 * growth, 30_000);
}

/** The statuses that rest a key and send the request to the next one: the key or its quota is the problem. */
export function refusesKey(status: number): boolean {
  return status === KEY_REJECTED_STATUS || status === 429 || status >= 500;
}

/** The status with which a provider rejects a key as such (429 and 5xx rest a key too, but say nothing of it). */
export const KEY_REJECTED_STATUS = 401;

/**
 * What a member gets when the provider rejected the key the gateway attached (after every key of its pool, when it
 * holds several): 502, the gateway's own failure, never the provider's 401, which an SDK reads as the member's key
 * being wrong and whose body may quote the held key. Not retried by an SDK: the same key would be lent again.
 */
export function providerKeyRefused(provider: string): GatewayException {
  return new GatewayException(
    ErrorCode.ProviderKeyRefused,
    `The provider refused the key this gateway holds for "${provider}" (HTTP ${KEY_REJECTED_STATUS}). Your gateway ` +
      "key is valid; ask the gateway's admin to check the provider key.",
    { headers: { [SHOULD_RETRY_HEADER]: 'false' } },
  );
}

/** One key lent to one request: say how its attempt went, exactly once. */
export interface KeyLease {
  readonly key: string;
  /** The provider took the key (any answer that is not a refusal). */
  succeeded(): void;
  /** The provider refused the key: it rests. */
  refused(refusal: KeyRefusedError): void;
}

interface PooledKey {
  key: string;
  breaker: CircuitBreakerPolicy;
}

interface Outcome {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A lease of a key whose breaker is closed, made without running the attempt inside the breaker (a closed
 * breaker has nothing to learn from a success): a refusal is run through it then, as a failed attempt, and opens
 * it. A refusal that comes when the breaker is no longer closed (another attempt opened it) changes nothing.
 */
function closedLease(pooled: PooledKey): KeyLease {
  let settled = false;
  return {
    key: pooled.key,
    succeeded: () => {
      settled = true;
    },
    refused: (refusal) => {
      if (!settled) {
        settled = true;
        pooled.breaker.execute(() => Promise.reject(refusal)).catch(() => undefined);
      }
    },
  };
}

/**
 * The keys the gateway holds for one provider: requests are spread over them in turn, and a key the provider
 * refuses (401, 429, 5xx) rests, through a cockatiel circuit breaker per key that opens at one refusal and lets
 * one request probe it again after its rest (restMs). A rested key is lent only when every key rests.
 *
 * A key whose breaker is closed is lent at once (closedLease: only a refusal is told to the breaker). Otherwise
 * the lease runs the attempt inside its key's breaker: `execute` calls its function at once when the breaker lets
 * the attempt through (open past its rest: the probe), so whether the function ran tells the pool whether the key
 * may be used; the attempt's outcome settles the breaker later.
 */
export class ProviderKeyPool {
  private readonly keys: readonly PooledKey[];
  private cursor = 0;

  constructor(keys: readonly string[]) {
    this.keys = keys.map((key) => ({
      key,
      breaker: circuitBreaker(handleAll, {
        breaker: new ConsecutiveBreaker(1),
        halfOpenAfter: new DelegateBackoff<IHalfOpenAfterBackoffContext>((context) =>
          restMs('error' in context.result ? context.result.error : undefined, context.attempt),
        ),
      }),
    }));
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * Each key's breaker by its place in the pool, `openai#1` for the first (never any part of the key), for
   * /readyz: closed (in turn), open (resting), half-open (one request is probing it).
   */
  views(provider: string): Record<string, BreakerView> {
    return Object.fromEntries(
      this.keys.map((pooled, index) => [`${provider}#${index + 1}`, { state: viewState(pooled.breaker.state) }]),
    );
  }

  /** Keys that are not resting now. */
  availableCount(): number {
    return this.keys.filter((pooled) => pooled.breaker.state === CircuitState.Closed).length;
  }

  /**
   * Lends the next key not in `tried`: the first in turn that its breaker lets through, else (every key rests)
   * the next in turn anyway; undefined when every key was tried.
   */
  lease(tried: ReadonlySet<string>): KeyLease | undefined {
    const order = this.turnOrder().filter((pooled) => !tried.has(pooled.key));
    for (const pooled of order) {
      const lease = this.tryLease(pooled);
      if (lease !== undefined) {
        return lease;
      }
    }
    const fallback = order[0];
    return fallback === undefined ? undefined : outsideBreaker(fallback.key);
  }

  /**
   * A key for a call whose answer says nothing about the key (a model list): the next in turn that is not
   * resting, else the next in turn; no breaker is touched, so such calls neither rest nor revive a key.
   */
  peek(): string | undefined {
    const order = this.turnOrder();
    return (order.find((pooled) => pooled.breaker.state === CircuitState.Closed) ?? order[0])?.key;
  }

  private turnOrder(): readonly PooledKey[] {
    if (this.keys.length <= 1) {
      return this.keys;
    }
    const start = this.cursor % Math.max(this.keys.length, 1);
    this.cursor = (this.cursor + 1) % Math.max(this.keys.length, 1);
    return [...this.keys.slice(start), ...this.keys.slice(0, start)];
  }

  private tryLease(pooled: PooledKey): KeyLease | undefined {
    if (pooled.breaker.state === CircuitState.Closed) {
      return closedLease(pooled);
    }
    let outcome: Outcome | undefined;
    const attempt = pooled.breaker.execute(
      () =>
        new Promise<void>((resolve, reject) => {
          outcome = { resolve, reject };
        }),
    );
    // A refusal is the breaker's to count, not an unhandled rejection; a breaker that let nothing through
    // rejects at once with BrokenCircuitError, and then `outcome` was never set.
    attempt.catch(() => undefined);
    const settle = outcome;
    if (settle === undefined) {
      return undefined;
    }
    let settled = false;
    return {
      key: pooled.key,
      succeeded: () => {
        if (!settled) {
          settled = true;
          settle.resolve();
        }
      },
      refused: (refusal) => {
        if (!settled) {
          settled = true;
          settle.reject(refusal);
        }
      },
    };
  }
}

/** A key breaker's state as /readyz names it. */
function viewState(state: CircuitState): BreakerView['state'] {
  if (state === CircuitState.Closed) {
    return 'closed';
  }
  return state === CircuitState.HalfOpen ? 'half_open' : 'open';
}

/** A key lent while its breaker is open (every key rests): its outcome changes nothing. */
function outsideBreaker(key: string): KeyLease {
  return { key, succeeded: () => undefined, refused: () => undefined };
}
