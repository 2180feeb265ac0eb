import { type Server, type Socket, connect, createServer } from 'node:net';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';
import { DEFAULT_WAIT_MS, Waiters } from './waiters';

/** One connection the proxy cut: when it opened, when its last byte passed (either way), when it was cut. */
export interface IdleCut {
  openedAt: number;
  lastByteAt: number;
  cutAt: number;
}

/** One client connection and the connection to the target it is spliced to. */
class SplicedPair {
  private lastByteAt = Date.now();
  private readonly openedAt = this.lastByteAt;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Socket,
    private readonly target: Socket,
    private readonly idleMs: number,
    private readonly onCut: (cut: IdleCut) => void,
  ) {
    for (const [from, to] of [
      [client, target],
      [target, client],
    ] as const) {
      from.on('data', (bytes: Buffer) => {
        this.lastByteAt = Date.now();
        to.write(bytes);
      });
      from.once('end', () => to.end());
      from.once('error', () => this.destroy());
      from.once('close', () => this.destroy());
    }
    this.arm(idleMs);
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.client.destroy();
    this.target.destroy();
  }

  /** Cuts the pair once no byte passed for the whole idle time, else waits for what is left of it. */
  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      const idleFor = Date.now() - this.lastByteAt;
      if (idleFor < this.idleMs) {
        this.arm(this.idleMs - idleFor);
        return;
      }
      this.onCut({ openedAt: this.openedAt, lastByteAt: this.lastByteAt, cutAt: Date.now() });
      this.client.resetAndDestroy();
      this.target.destroy();
    }, delayMs);
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of a loopback port that cuts (TCP reset) every connection on which no byte
 * passed, either way, for `idleMs`: what a load balancer with an idle timeout does to a stream that goes quiet.
 * A test puts it between a client and a service to show that heartbeats keep a quiet stream alive.
 */
export class IdleCutProxy {
  /** The connections cut for being idle, in the order they were cut. */
  readonly cuts: IdleCut[] = [];
  private readonly pairs = new Set<SplicedPair>();
  private readonly server: Server;
  private readonly waiters = new Waiters();

  private constructor(
    private readonly targetPort: number,
    private readonly idleMs: number,
  ) {
    this.server = createServer((client) => this.splice(client));
  }

  /** Starts a proxy to `127.0.0.1:targetPort` that cuts connections idle for `idleMs`. */
  static async start(targetPort: number, idleMs: number): Promise<IdleCutProxy> {
    const proxy = new IdleCutProxy(targetPort, idleMs);
    await listenOnLoopback(proxy.server);
    return proxy;
  }

  /** `http://127.0.0.1:<port>` of the proxy. */
  get url(): string {
    return loopbackAddress(this.server).url;
  }

  /**
   * Resolves with the first cut after the `seen` ones a test already counted (at once when there is one), rejects
   * after `timeoutMs`.
   */
  waitForCut(seen = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<IdleCut> {
    return this.waiters.until(() => this.cuts[seen], timeoutMs, `idle connection ${seen + 1} to be cut`);
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.destroy();
    }
    await closeServer(this.server);
  }

  private splice(client: Socket): void {
    // A socket still connecting queues what is written to it, so the client's first bytes wait for the target.
    const target = connect(this.targetPort, '127.0.0.1');
    const pair = new SplicedPair(client, target, this.idleMs, (cut) => {
      this.cuts.push(cut);
      this.waiters.changed();
    });
    this.pairs.add(pair);
    client.once('close', () => this.pairs.delete(pair));
  }
}
