import { UpstreamExchange } from './upstream-exchange';

/**
 * The end of one short upstream call (a control-plane call, a provider's model list): a budget for the whole
 * call, its retries and their waits included, however slowly its answer comes (0: none), or the caller's signal,
 * whichever comes first. `exchange` is what the call passes to undici and to the retry layer (requestUpstream),
 * which plans no retry whose wait would outlast the budget and stops waiting once it aborted. `clear()` when the
 * call is over.
 */
export class CallDeadline {
  readonly exchange = new UpstreamExchange();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    budgetMs: number,
    private readonly caller?: AbortSignal,
  ) {
    if (caller?.aborted === true) {
      this.exchange.abort();
    }
    caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (budgetMs > 0) {
      this.exchange.endsAt = performance.now() + budgetMs;
      this.timer = setTimeout(() => this.exchange.expire(), budgetMs);
    }
  }

  /** The budget ran out (rather than the caller's signal aborting). */
  get expired(): boolean {
    return this.exchange.timedOut;
  }

  /** Stops watching: the call is over. */
  clear(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => {
    this.exchange.abort();
  };
}
