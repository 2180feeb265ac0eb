/**
 * The ledger reads that seed budget counters, one at a time per counter: when many requests of a key find no
 * counter at once (a new key, a new month, a Redis that lost its data), they share one `spentUsd()` call.
 */
export class SeedReads {
  private readonly pending = new Map<string, Promise<number>>();

  /** What `spentUsd` answers for this counter, from the call already running when there is one. */
  read(counter: string, spentUsd: () => Promise<number>): Promise<number> {
    const running = this.pending.get(counter);
    if (running !== undefined) {
      return running;
    }
    const started = spentUsd().finally(() => this.pending.delete(counter));
    this.pending.set(counter, started);
    return started;
  }
}
