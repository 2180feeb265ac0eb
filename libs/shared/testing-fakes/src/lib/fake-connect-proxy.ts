import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';

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
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
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
