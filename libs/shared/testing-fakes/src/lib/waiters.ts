/** How long a fake waits for something it is asked to wait for, unless told otherwise. */
export const DEFAULT_WAIT_MS = 5_000;

/**
 * What a fake records can be waited for: `until` resolves once the probe returns a value, checked again every
 * time the fake calls `changed()` (after it recorded something), and rejects after a bounded wait.
 */
export class Waiters {
  private waiters: Array<() => void> = [];

  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = probe();
    if (found !== undefined) {
      return Promise.resolve(found);
    }
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined) {
          clearTimeout(timer);
          this.remove(check);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.remove(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  changed(): void {
    for (const waiter of [...this.waiters]) {
      waiter();
    }
  }

  private remove(check: () => void): void {
    this.waiters = this.waiters.filter((waiter) => waiter !== check);
  }
}
