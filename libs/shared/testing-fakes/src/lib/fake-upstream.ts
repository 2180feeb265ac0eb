import { createHash } from 'node:crypto';
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
} from 'node:http';
import type { Socket } from 'node:net';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';
import { DEFAULT_WAIT_MS, Waiters } from './waiters';

/** What one request brought to a fake upstream, exactly as it arrived. */
export interface RecordedRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Header names in the order and case they arrived (rawHeaders). */
  rawHeaderNames: string[];
  body: Buffer;
  bodySha256: string;
  receivedAt: number;
  /** When our response's connection closed: set for clean ends and for clients that went away. */
  closedAt: number | undefined;
  /** True when the connection closed before the response was finished. */
  closedEarly: boolean;
}

export type FakeHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

interface FakeRoute {
  method: string;
  path: string | RegExp;
  handler: FakeHandler;
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}

function matches(route: FakeRoute, method: string, url: string): boolean {
  const path = url.split('?')[0] ?? url;
  const methodOk = route.method === '*' || route.method === method;
  return methodOk && (typeof route.path === 'string' ? route.path === path : route.path.test(path));
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) that records every request and answers from scripted handlers.
 * Routes added later win, so a test can override a preset. Unmatched requests get a 404 JSON.
 */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  /**
   * Requests whose head arrived, their body finished or not: a request cut while its body was on the way is
   * counted here (contact was made) but never recorded in `requests`.
   */
  arrivals = 0;
  private readonly routes: FakeRoute[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private readonly waiters = new Waiters();

  private constructor() {
    this.server = createServer((incoming, response) => {
      this.arrivals += 1;
      void this.handle(incoming, response);
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeUpstream> {
    const fake = new FakeUpstream();
    await listenOnLoopback(fake.server);
    return fake;
  }

  get url(): string {
    return loopbackAddress(this.server).url;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  on(method: string, path: string | RegExp, handler: FakeHandler): this {
    this.routes.push({ method, path, handler });
    return this;
  }

  /** The last request whose path starts with the prefix. */
  lastRequest(pathPrefix = ''): RecordedRequest | undefined {
    return [...this.requests].reverse().find((request) => request.url.startsWith(pathPrefix));
  }

  /** Resolves when a request matching the predicate has arrived (bounded wait). */
  waitForRequest(
    predicate: (request: RecordedRequest) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<RecordedRequest> {
    return this.waitFor(() => this.requests.find(predicate), timeoutMs, 'request');
  }

  /** Resolves with the close time of the request's connection (bounded wait). */
  waitForClose(request: RecordedRequest, timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return this.waitFor(() => request.closedAt, timeoutMs, 'connection close');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closeServer(this.server);
  }

  private waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return this.waiters.until(probe, timeoutMs, what);
  }

  private notify(): void {
    this.waiters.changed();
  }

  private async handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(incoming).catch(() => Buffer.alloc(0));
    const rawHeaderNames = incoming.rawHeaders.filter((_, index) => index % 2 === 0);
    const recorded: RecordedRequest = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      headers: incoming.headers,
      rawHeaderNames,
      body,
      bodySha256: createHash('sha256').update(body).digest('hex'),
      receivedAt: Date.now(),
      closedAt: undefined,
      closedEarly: false,
    };
    this.requests.push(recorded);
    response.once('close', () => {
      recorded.closedAt = Date.now();
      recorded.closedEarly = !response.writableFinished;
      this.notify();
    });
    this.notify();
    const route = [...this.routes].reverse().find((candidate) => matches(candidate, recorded.method, recorded.url));
    if (route === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: `fake: no route for ${recorded.method} ${recorded.url}` } }));
      return;
    }
    try {
      await route.handler(recorded, response);
    } catch (error) {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
      }
      response.end(JSON.stringify({ error: { message: `fake handler failed: ${String(error)}` } }));
    }
  }
}
