import { Injectable } from '@nestjs/common';
import type { Server } from 'node:http';

/** A response that can be ended early when the drain cap is reached. */
export interface DrainableStream {
  /** End the response now (an error frame for event streams). */
  terminate(): void;
}

/**
 * Tracks in-flight requests and streams so that SIGTERM can fail readiness at once, stop accepting, let
 * in-flight work finish up to the drain cap, and then end what is left.
 */
@Injectable()
export class ShutdownService {
  private drainingSince: number | undefined;
  private inFlight = 0;
  private readonly streams = new Set<DrainableStream>();
  private idleWaiters: Array<() => void> = [];

  get isDraining(): boolean {
    return this.drainingSince !== undefined;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  requestStarted(): void {
    this.inFlight += 1;
  }

  requestFinished(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  /** Registers a stream; returns the function that unregisters it. */
  registerStream(stream: DrainableStream): () => void {
    this.streams.add(stream);
    return () => {
      this.streams.delete(stream);
    };
  }

  /** Stops accepting, waits for in-flight requests up to `drainMs`, then terminates the streams left. */
  async drain(server: Server, drainMs: number): Promise<void> {
    if (this.drainingSince !== undefined) {
      return;
    }
    this.drainingSince = Date.now();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timedOut = await this.waitForIdle(drainMs);
    if (timedOut) {
      for (const stream of [...this.streams]) {
        stream.terminate();
      }
    }
    await this.waitForIdle(1_000);
    server.closeAllConnections();
    await closed;
  }

  /** Resolves false when idle, true when the time ran out first. */
  private waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== onIdle);
        resolve(true);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      this.idleWaiters.push(onIdle);
    });
  }
}
