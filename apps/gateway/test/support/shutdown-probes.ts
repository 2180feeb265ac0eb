import { type Socket, connect } from 'node:net';

/** How often a probe tries a new connection while it waits for a server to stop listening. */
const PROBE_EVERY_MS = 20;

/** Resolves true when a new TCP connection to 127.0.0.1:`port` is refused, false when one is accepted. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve(error.code === 'ECONNREFUSED');
    });
  });
}

/** Waits until new connections to `port` are refused (the server stopped listening); throws after `withinMs`. */
export async function waitUntilRefused(port: number, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await connectionRefused(port))) {
    if (performance.now() > deadline) {
      throw new Error(`127.0.0.1:${port} still accepts connections after ${withinMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
  }
}

/** The status line's code and the body text of a raw HTTP answer. */
export interface RawAnswer {
  status: number;
  body: string;
}

/**
 * A GET whose head is sent in two parts: the request line before a shutdown starts, so that its connection is
 * busy (not idle) and survives the drain's closing of idle connections, and the rest once the server stopped
 * accepting. It shows what a request on an open connection is told while the server drains.
 */
export class HeldRequest {
  private answer = '';
  private readonly ended: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (bytes: Buffer) => {
      this.answer += bytes.toString('utf8');
    });
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => socket.destroy());
  }

  /** Connects to 127.0.0.1:`port` and sends the request line of `GET path` (and nothing else yet). */
  static async open(port: number, path: string): Promise<HeldRequest> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const held = new HeldRequest(socket);
    await new Promise<void>((resolve) => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, () => resolve()));
    return held;
  }

  /** Sends the end of the head and resolves with the answer once the server closed the connection (bounded). */
  async finish(withinMs: number): Promise<RawAnswer> {
    this.socket.write('Connection: close\r\n\r\n');
    const timer = setTimeout(() => this.socket.destroy(), withinMs);
    await this.ended;
    clearTimeout(timer);
    const [head = '', body = ''] = this.answer.split('\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    return { status, body };
  }

  /** Drops the connection (for `finally`). */
  close(): void {
    this.socket.destroy();
  }
}
