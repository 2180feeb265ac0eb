import type { IncomingMessage } from 'node:http';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { ClientAddressService, MetricsService, ShutdownService } from '@openai-proxy/feature-platform';
import type { PlatformSettings } from '@openai-proxy/util-config';
import { closeServer, listenOnLoopback } from '@openai-proxy/testing-fakes';
import { ErrorCode } from '@openai-proxy/util-errors';
import type { RelayTarget } from './relay.types';
import { WebSocketRelay } from './websocket-relay';

const SETTINGS = {
  trustProxy: false,
  upstream: { headersTimeoutMs: 2_000, egressProxy: undefined, noProxy: undefined },
} as unknown as PlatformSettings;

/** The server side of a fresh TCP connection on 127.0.0.1, as an upgrade handler gets it. */
async function acceptedSocket(server: Server, port: number): Promise<{ accepted: Socket; client: Socket }> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect(port, '127.0.0.1');
  return { accepted: await accepted, client };
}

describe(WebSocketRelay.name, () => {
  const settings = SETTINGS;
  const relay = new WebSocketRelay(
    settings,
    new MetricsService(),
    new ShutdownService(),
    new ClientAddressService(settings),
  );
  const front = createServer();
  let frontPort = 0;
  let downPort = 0;

  beforeAll(async () => {
    frontPort = (await listenOnLoopback(front)).port;
    const down = createServer();
    downPort = (await listenOnLoopback(down)).port;
    await closeServer(down);
  });

  afterAll(async () => {
    await closeServer(front);
  });

  // Regression: when the upstream attempt failed (refused, timed out), the client's hold was never released
  // and kept buffering what the client sent (up to 1 MiB) until its socket closed.
  it('should release the client socket when the upstream refuses the connection', async () => {
    const { accepted, client } = await acceptedSocket(front, frontPort);
    try {
      const request = {
        method: 'GET',
        headers: {
          host: `127.0.0.1:${frontPort}`,
          upgrade: 'websocket',
          connection: 'Upgrade',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
        },
        socket: accepted,
      } as unknown as IncomingMessage;
      const target = {
        name: 'down',
        kind: 'internal',
        origin: `http://127.0.0.1:${downPort}`,
        basePath: '',
        dropResponseHeaderPrefixes: [],
      } as unknown as RelayTarget;
      const listening = { data: accepted.listenerCount('data'), end: accepted.listenerCount('end') };
      await expect(relay.relay(request, accepted, Buffer.alloc(0), target, '/')).rejects.toMatchObject({
        code: ErrorCode.UpstreamUnavailable,
      });
      expect({ data: accepted.listenerCount('data'), end: accepted.listenerCount('end') }).toEqual(listening);
    } finally {
      client.destroy();
      accepted.destroy();
    }
  });
});
