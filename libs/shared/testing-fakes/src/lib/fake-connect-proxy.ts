import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type Socket, connect } from 'node:net';
import { closeServer, listenOnLoopback, loopbackAddress } from './loopback-server';

/**
 * An HTTP CONNECT proxy on 127.0.0.1 that records each tunnel target. It only tunnels to loopback
 * addresses, so a test can never reach the outside through it.
 */
export class FakeConnectProxy {
  readonly tunnels: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((_request, response) => {
      response.writeHead(405).end();
    });
    this.server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) =>
      this.tunnel(request, client, head),
    );
  }

  static async start(): Promise<FakeConnectProxy> {
    const proxy = new FakeConnectProxy();
    await listenOnLoopback(proxy.server);
    return proxy;
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

  private tunnel(request: IncomingMessage, client: Socket, head: Buffer): void {
    const target = request.url ?? '';
    this.tunnels.push(target);
    const [host, port] = target.split(':');
    if (host !== '127.0.0.1' && host !== 'localhost') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('error', () => socket.destroy());
    }
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
  }
}
