import { type Server, createServer } from 'node:http';
import { RelayService, WebSocketRelay } from '@openai-proxy/data-access-upstream';
import {
  ClientAddressService,
  MetricsService,
  RawRouteRegistry,
  ShutdownService,
  pathnameOf,
} from '@openai-proxy/feature-platform';
import { type FakeUpstream, closeServer, listenOnLoopback, startFakeGemini } from '@openai-proxy/testing-fakes';
import { commonEnvShape, parseEnvironment, toPlatformSettings } from '@openai-proxy/util-config';
import { GeminiRelayRoute } from './gemini-relay.route';

/** The route on a real registry and real relay, behind a bare node:http server that asks the registry. */
async function serveRoute(
  apiBase: string,
): Promise<{ url: string; registry: RawRouteRegistry; close(): Promise<void> }> {
  const platform = toPlatformSettings('bard-bridge', 0, parseEnvironment(commonEnvShape, {}), 1);
  const metrics = new MetricsService();
  const shutdown = new ShutdownService();
  const addresses = new ClientAddressService(platform);
  const relay = new RelayService(platform, metrics, shutdown, addresses);
  const registry = new RawRouteRegistry();
  const webSockets = new WebSocketRelay(platform, metrics, shutdown, addresses);
  new GeminiRelayRoute(registry, relay, webSockets, {
    apiBase,
  }).onModuleInit();
  const server: Server = createServer((request, response) => {
    const route = registry.find(pathnameOf(request.url ?? '/'));
    if (route === undefined) {
      response.writeHead(404).end();
      return;
    }
    route.handle(request, response).catch(() => response.destroy());
  });
  const { url } = await listenOnLoopback(server);
  return {
    url,
    registry,
    close: async () => {
      await closeServer(server);
      await webSockets.onModuleDestroy();
      await relay.onModuleDestroy();
    },
  };
}

describe(GeminiRelayRoute.name, () => {
  let gemini: FakeUpstream;
  let served: Awaited<ReturnType<typeof serveRoute>>;

  beforeAll(async () => {
    gemini = await startFakeGemini();
    served = await serveRoute(gemini.url);
  });

  afterAll(async () => {
    await served.close();
    await gemini.close();
  });

  it.each([
    ['/gemini', true],
    ['/gemini/v1beta/models', true],
    ['/geminix/v1beta/models', false],
    ['/google/v1/models', false],
  ])('should own %s: %s', (pathname, owned) => {
    expect(served.registry.find(pathname) !== undefined).toBe(owned);
  });

  it('should relay below GEMINI_API_BASE with a Bearer AIza key moved to x-goog-api-key', async () => {
    const response = await fetch(`${served.url}/gemini/v1beta/models?pageSize=5`, {
      headers: { authorization: 'Bearer AIzaSyTest0000000000000000000000000000' },
      signal: AbortSignal.timeout(5_000),
    });
    await response.arrayBuffer();
    const arrived = gemini.requests.at(-1);
    expect(arrived?.url).toBe('/v1beta/models?pageSize=5');
    expect(arrived?.headers['x-goog-api-key']).toBe('AIzaSyTest0000000000000000000000000000');
    expect(arrived?.headers.authorization).toBeUndefined();
  });

  it('should leave an OAuth access token in Authorization when it is not an API key', async () => {
    const response = await fetch(`${served.url}/gemini/v1beta/models`, {
      headers: { authorization: 'Bearer ya29.a0-test-token' },
      signal: AbortSignal.timeout(5_000),
    });
    await response.arrayBuffer();
    const arrived = gemini.requests.at(-1);
    expect(arrived?.headers.authorization).toBe('Bearer ya29.a0-test-token');
    expect(arrived?.headers['x-goog-api-key']).toBeUndefined();
  });
});
