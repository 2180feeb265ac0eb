import { type Socket, connect } from 'node:net';
import { Worker } from 'node:worker_threads';

/** The listen backlog: with 1, Linux queues two finished handshakes, then drops every SYN. */
const BACKLOG = 1;
/** How long a filling connect may take before the queue counts as full: a SYN is first sent again after 1 s. */
const CONNECT_PATIENCE_MS = 300;
/** More connects than any backlog of 1 takes: past them, the queue never filled and the fake refuses to start. */
const MAX_FILLERS = 8;

/**
 * The worker's code: listens on 127.0.0.1 with the backlog, posts its port, then blocks its thread for good (no
 * CPU used), so its event loop never accepts a connection.
 */
const LISTENER_CODE = `
const { createServer } = require('node:net');
const { parentPort } = require('node:worker_threads');
const server = createServer();
server.listen({ host: '127.0.0.1', port: 0, backlog: ${BACKLOG} }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
`;

/** Connects to `port`; resolves with the socket once connected, or undefined when it did not within the patience. */
function tryConnect(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const settle = (connected: boolean): void => {
      clearTimeout(timer);
      if (!connected) {
        socket.destroy();
      }
      resolve(connected ? socket : undefined);
    };
    const timer = setTimeout(() => settle(false), CONNECT_PATIENCE_MS);
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  });
}

/**
 * A port on 127.0.0.1 where a TCP connect never completes, for the connect budget (a loopback connect is
 * otherwise answered at once, accepted or refused). A listener that never accepts, its accept queue full: Linux
 * drops a SYN while the queue is full, so the client's connect waits, sending its SYN again, until its own
 * timeout. The listener runs on a worker thread that blocks once it listens; `start` fills its queue with
 * connections it holds. `close` drops them and ends the worker, freeing the port.
 */
export class StalledListener {
  private constructor(
    private readonly worker: Worker,
    readonly port: number,
    private readonly held: Socket[],
  ) {}

  static async start(): Promise<StalledListener> {
    const worker = new Worker(LISTENER_CODE, { eval: true });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (message: unknown) => resolve(Number(message)));
      worker.once('error', reject);
    });
    const held: Socket[] = [];
    const listener = new StalledListener(worker, port, held);
    for (let filler = 0; filler < MAX_FILLERS; filler += 1) {
      const socket = await tryConnect(port);
      if (socket === undefined) {
        return listener;
      }
      held.push(socket);
    }
    await listener.close();
    throw new Error(`The accept queue of 127.0.0.1:${port} took ${MAX_FILLERS} connections and never filled`);
  }

  /** `http://127.0.0.1:<port>`, for a base URL whose connects stall. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops the held connections and ends the worker (its listener goes with it). */
  async close(): Promise<void> {
    for (const socket of this.held) {
      socket.destroy();
    }
    await this.worker.terminate();
  }
}
