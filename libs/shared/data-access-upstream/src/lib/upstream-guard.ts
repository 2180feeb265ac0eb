import { CircuitState, ConsecutiveBreaker, type CircuitBreakerPolicy, circuitBreaker, handleWhen } from 'cockatiel';
import type { BreakerView, MetricsService } from '@openai-proxy/feature-platform';
import type { UpstreamRetrySettings } from '@openai-proxy/util-config';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import { RetryBudget, type RetryReason } from './retry-policy';

/**
 * How one attempt went, for the breaker: the upstream answered (any status it is not blamed for), it failed
 * (a connection error, a timeout before the headers, a provider's 5xx), or our side abandoned it (the client
 * left, the drain, a body over the limit), which says nothing of the upstream.
 */
export type AttemptVerdict = 'answered' | 'failed' | 'abandoned';

/** A retry the budget granted, not made yet: say once whether it was `made` or stays `unused` (given back). */
export interface RetryGrant {
  made(): void;
  unused(): void;
}

/** One attempt's way through an upstream's breaker: settle it once, with how the attempt went. */
export interface BreakerPass {
  settle(verdict: AttemptVerdict): void;
}

/** The breaker's verdict on an answer: a provider's 5xx is its failure; our own services' statuses are their providers'. */
export function verdictForStatus(kind: 'provider' | 'internal', status: number): AttemptVerdict {
  return kind === 'provider' && status >= 500 ? 'failed' : 'answered';
}

/**
 * The refusal of an attempt while its upstream's circuit is open: 503 `upstream_unavailable` with a Retry-After,
 * no call made. Its own class, so that a caller that words its errors itself (the cost query) can tell it from
 * a connection that failed.
 */
export class CircuitOpenException extends GatewayException {}

/** The only error the breakers count: an attempt that failed (made once, never thrown to a caller). */
class AttemptFailed extends Error {}
const ATTEMPT_FAILED = new AttemptFailed('upstream attempt failed');
const recordFailure = (): Promise<void> => Promise.reject(ATTEMPT_FAILED);
const recordSuccess = (): Promise<void> => Promise.resolve();
const ignore = (): undefined => undefined;

/** The pass when the breakers are off (UPSTREAM_BREAKER_FAILURES=0). */
const UNGUARDED: BreakerPass = { settle: ignore };

/** `upstream_circuit_state`'s value for a cockatiel state: 0 closed, 1 half-open, 2 open. */
function gaugeValue(state: CircuitState): number {
  if (state === CircuitState.HalfOpen) {
    return 1;
  }
  return state === CircuitState.Closed ? 0 : 2;
}

/**
 * What stands between the callers and one upstream: its circuit breaker (cockatiel, opened by
 * `breakerFailures` failures in a row, half-open after `breakerOpenMs`: one call probes the upstream, the others
 * fail at once until it answered) and its retry budget. While the circuit is closed an attempt costs a state
 * read: the shared pass records nothing on success unless failures were counted since the last one.
 */
export class UpstreamGuard {
  readonly budget: RetryBudget;
  private readonly policy: CircuitBreakerPolicy | undefined;
  private readonly consecutive: ConsecutiveBreaker | undefined;
  private readonly closedPass: BreakerPass;
  /** When the circuit last opened (Date.now()). */
  private openedAt = 0;

  /** `name` labels the metrics and errors (never a URL or credential); `now` is the budget's clock. */
  constructor(
    readonly name: string,
    private readonly settings: UpstreamRetrySettings,
    private readonly metrics: MetricsService,
    now?: () => number,
  ) {
    this.budget = new RetryBudget(settings.budgetPercent, now);
    this.closedPass = { settle: (verdict) => this.recordWhileClosed(verdict) };
    metrics.circuitState.set({ upstream: name }, 0);
    if (settings.breakerFailures > 0) {
      this.consecutive = new ConsecutiveBreaker(settings.breakerFailures);
      this.policy = circuitBreaker(
        handleWhen((error) => error === ATTEMPT_FAILED),
        { breaker: this.consecutive, halfOpenAfter: settings.breakerOpenMs },
      );
      this.policy.onStateChange((state) => {
        if (state === CircuitState.Open) {
          this.openedAt = Date.now();
        }
        metrics.circuitState.set({ upstream: name }, gaugeValue(state));
      });
    }
  }

  /** Retries of one call at most. */
  get retries(): number {
    return this.settings.retries;
  }

  /**
   * Lets one attempt through: at once while the circuit is closed; as the probe when it has been open long
   * enough; else throws 503 `upstream_unavailable` with a Retry-After (the probe of a half-open circuit is out).
   */
  enter(): BreakerPass {
    const policy = this.policy;
    if (policy === undefined) {
      return UNGUARDED;
    }
    if (policy.state === CircuitState.Closed) {
      return this.closedPass;
    }
    const probe = policy.state === CircuitState.Open ? this.probe(policy) : undefined;
    if (probe === undefined) {
      throw this.unavailable();
    }
    return probe;
  }

  /**
   * Takes one retry (a key failover, a fallback on this same upstream) from the budget; undefined when the budget
   * is spent (counted): the caller then answers with what it has. The grant is counted by `reason` once the retry
   * is made, and goes back to the budget when it is not (the client left while it waited).
   */
  allowRetry(reason: RetryReason): RetryGrant | undefined {
    const taken = this.budget.tryRetry();
    if (taken === undefined) {
      this.metrics.retryBudgetExhausted.inc({ upstream: this.name });
      return undefined;
    }
    return {
      made: () => this.metrics.retries.inc({ upstream: this.name, reason }),
      unused: () => taken.giveBack(),
    };
  }

  /** A move to a model fallback, counted as `model_fallback`: it is the fallback upstream's first attempt. */
  countFallback(): void {
    this.metrics.retries.inc({ upstream: this.name, reason: 'model_fallback' });
  }

  /** The breaker as /readyz shows it. */
  view(): BreakerView {
    const state = this.policy?.state ?? CircuitState.Closed;
    if (state === CircuitState.Closed) {
      return { state: 'closed' };
    }
    if (state === CircuitState.HalfOpen) {
      return { state: 'half_open' };
    }
    return { state: 'open', retryAfterSeconds: this.secondsToProbe() };
  }

  /**
   * An attempt's outcome while the circuit is closed, recorded through the policy after the fact: a failure
   * always, a success only when it resets a count. An answer to an attempt made before the circuit opened is
   * not recorded (the probe decides).
   */
  private recordWhileClosed(verdict: AttemptVerdict): void {
    const policy = this.policy;
    if (policy === undefined || policy.state !== CircuitState.Closed || verdict === 'abandoned') {
      return;
    }
    if (verdict === 'failed') {
      policy.execute(recordFailure).catch(ignore);
    } else if ((this.consecutive?.state ?? 0) > 0) {
      policy.execute(recordSuccess).catch(ignore);
    }
  }

  /**
   * The probe of an open circuit: the policy runs its function at once when the open time is over (the circuit
   * goes half-open), and the attempt's verdict settles it: answered closes the circuit, anything else opens it
   * again. Undefined while the circuit must stay open.
   */
  private probe(policy: CircuitBreakerPolicy): BreakerPass | undefined {
    let settle: ((verdict: AttemptVerdict) => void) | undefined;
    policy
      .execute(
        () =>
          new Promise<void>((resolve, reject) => {
            settle = (verdict) => (verdict === 'answered' ? resolve() : reject(ATTEMPT_FAILED));
          }),
      )
      .catch(ignore);
    const probed = settle;
    if (probed === undefined) {
      return undefined;
    }
    let settled = false;
    return {
      settle: (verdict) => {
        if (!settled) {
          settled = true;
          probed(verdict);
        }
      },
    };
  }

  private secondsToProbe(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.settings.breakerOpenMs - Date.now()) / 1000));
  }

  private unavailable(): CircuitOpenException {
    const seconds = this.policy?.state === CircuitState.Open ? this.secondsToProbe() : 1;
    return new CircuitOpenException(
      ErrorCode.UpstreamUnavailable,
      `Upstream ${this.name} is failing and is not called for now; retry after ${seconds} s`,
      { headers: { 'retry-after': String(seconds) } },
    );
  }
}

/** The guards of one service, one per upstream name, made at the upstream's first target. */
export class UpstreamGuards {
  private readonly guards = new Map<string, UpstreamGuard>();

  constructor(
    private readonly settings: UpstreamRetrySettings,
    private readonly metrics: MetricsService,
  ) {}

  /** The guard of the upstream called `name` (each configured base URL has its own name). */
  for(name: string): UpstreamGuard {
    let guard = this.guards.get(name);
    if (guard === undefined) {
      guard = new UpstreamGuard(name, this.settings, this.metrics);
      this.guards.set(name, guard);
    }
    return guard;
  }

  /** Every upstream's breaker, by name, for /readyz. */
  views(): Record<string, BreakerView> {
    return Object.fromEntries([...this.guards].map(([name, guard]) => [name, guard.view()]));
  }
}
