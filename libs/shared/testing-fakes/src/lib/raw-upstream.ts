import { type Server, type Socket, connect, createServer } from 'node:net';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';

/** What a raw upstream does with one connection once the request head (and maybe some body) has arrived. */
export type RawScript = (socket: Socket, head: string, bodyStart: string) => void | Promise<void>;

/**
 * A TCP server on 127.0.0.1 (port 0) that answers with bytes written by hand: close-delimited bodies, frames
 * cut in the middle, lengths that lie. Records every request head (request line and headers) that arrived.
 */
export class RawUpstream {
  readonly heads: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(script: RawScript) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let received = '';
      const onData = (chunk: Buffer): void => {
        received += chunk.toString('latin1');
        const end = received.indexOf('\r\n\r\n');
        if (end !== -1) {
          socket.off('data', onData);
          const head = received.slice(0, end);
          this.heads.push(head);
          void script(socket, head, received.slice(end + 4));
        }
      };
      socket.on('data', onData);
    });
  }

  static async start(script: RawScript): Promise<RawUpstream> {
    const upstream = new RawUpstream(script);
    await listenOnLoopback(upstream.server);
    return upstream;
  }

  get url(): string {
    return loopbackAddress(this.server).url;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }
}

/** Writes `bytes` and resolves once they were handed to the socket. */
export function writeRaw(socket: Socket, bytes: string): Promise<void> {
  return new Promise((resolve) => socket.write(bytes, 'latin1', () => resolve()));
}

/** A close-delimited event-stream answer head: no length, no chunked encoding; the body ends when we close. */
export const CLOSE_DELIMITED_SSE_HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n';

/** Sends one request with its target exactly as given (no client normalises it) and resolves with the answer. */
export function rawRequest(url: string, method: string, target: string, waitMs = 3_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
}
