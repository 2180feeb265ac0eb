import { type IncomingHttpHeaders, type IncomingMessage, type Server, createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';
import { DEFAULT_WAIT_MS, Waiters } from './waiters';

/** One message as it arrived: the bytes and whether it was a binary or a text frame. */
export interface RecordedMessage {
  data: Buffer;
  isBinary: boolean;
}

/** What one WebSocket connection brought to the fake, exactly as it arrived. */
export interface RecordedWebSocket {
  /** Path and query string of the upgrade request. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The subprotocol the fake chose ('' when none was offered). */
  protocol: string;
  messages: RecordedMessage[];
  pings: Buffer[];
  pongs: Buffer[];
  /** The close code and reason the fake received (1006 when the connection just dropped). */
  closed: { code: number; reason: string } | undefined;
  /** The fake's side of the connection: tests send, ping and close through it. */
  socket: WebSocket;
}

/** A scripted refusal of the upgrade: the status, headers and body the fake answers instead of 101. */
export interface WebSocketRefusal {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) {
    return data;
  }
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * A real WebSocket server on 127.0.0.1 (port 0) that records every connection, message, ping, pong and close,
 * echoes each message back in the frame type it came in, and refuses upgrades with a scripted answer on request.
 */
export class FakeWebSocketUpstream {
  readonly connections: RecordedWebSocket[] = [];
  /** Upgrade requests that were refused (path and headers as they arrived). */
  readonly refused: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  refusal: WebSocketRefusal | undefined;
  echo = true;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly webSockets = new WebSocketServer({ noServer: true, clientTracking: false });
  private readonly waiters = new Waiters();

  private constructor() {
    this.server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'fake: WebSocket upgrades only' } }));
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head),
    );
  }

  static async start(): Promise<FakeWebSocketUpstream> {
    const fake = new FakeWebSocketUpstream();
    await listenOnLoopback(fake.server);
    return fake;
  }

  /** The fake's base URL, `http://…` (as an `*_API_BASE` is configured). */
  get url(): string {
    return loopbackAddress(this.server).url;
  }

  /** TCP connections open now (upgraded ones included). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Resolves with the `index`th connection once it is open (bounded wait). */
  waitForConnection(index = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedWebSocket> {
    return this.waitFor(() => this.connections[index], timeoutMs, `WebSocket connection ${index}`);
  }

  /** Resolves when the probe returns a value (checked on every event the fake records; bounded wait). */
  waitFor<T>(probe: () => T | undefined, timeoutMs = DEFAULT_WAIT_MS, what = 'condition'): Promise<T> {
    return this.waiters.until(probe, timeoutMs, what);
  }

  /** Resolves with how the `index`th connection was closed (bounded wait). */
  waitForClose(index = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    return this.waitFor(() => this.connections[index]?.closed, timeoutMs, `close of connection ${index}`);
  }

  async close(): Promise<void> {
    for (const connection of this.connections) {
      connection.socket.terminate();
    }
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }

  private notify(): void {
    this.waiters.changed();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.refusal;
    if (refusal !== undefined) {
      this.refused.push({ url: request.url ?? '/', headers: request.headers });
      const headers = { 'content-type': 'application/json', ...refusal.headers };
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\n${lines.join('\r\n')}\r\n` +
          `content-length: ${Buffer.byteLength(refusal.body)}\r\nconnection: close\r\n\r\n${refusal.body}`,
      );
      this.notify();
      return;
    }
    this.webSockets.handleUpgrade(request, socket, head, (webSocket) => this.record(request, webSocket));
  }

  private record(request: IncomingMessage, socket: WebSocket): void {
    const recorded: RecordedWebSocket = {
      url: request.url ?? '/',
      headers: request.headers,
      protocol: socket.protocol,
      messages: [],
      pings: [],
      pongs: [],
      closed: undefined,
      socket,
    };
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      recorded.messages.push({ data: bytes, isBinary });
      if (this.echo) {
        socket.send(bytes, { binary: isBinary });
      }
      this.notify();
    });
    socket.on('ping', (data: Buffer) => {
      recorded.pings.push(data);
      this.notify();
    });
    socket.on('pong', (data: Buffer) => {
      recorded.pongs.push(data);
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', (code: number, reason: Buffer) => {
      recorded.closed = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    this.connections.push(recorded);
    this.notify();
  }
}
