import {
  FakeWebSocketUpstream,
  closeOf,
  openWebSocket,
  refusedWebSocket,
  webSocketUrl,
} from '@openai-proxy/testing-fakes';
import { type Stack, startStack } from './support/stack';
import { createGatewayKey } from './support/team';

const REALTIME = '/openai/v1/realtime?model=gpt-realtime';
const HELD_KEY = 'sk-held-realtime-0123456789';

describe('WebSocket upgrades in team mode (GATEWAY_KEYS=required)', () => {
  let upstream: FakeWebSocketUpstream;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await FakeWebSocketUpstream.start();
    stack = await startStack({
      relayEnv: { OPENAI_API_BASE: upstream.url },
      gatewayEnv: { GATEWAY_KEYS: 'required', DATABASE_URL: 'sqlite::memory:', OPENAI_API_KEY: HELD_KEY },
    });
  });

  afterAll(async () => {
    await stack.close();
    await upstream.close();
  });

  async function newKey(settings: { models?: string[]; rpm?: number } = {}): Promise<string> {
    return (await createGatewayKey(stack.gateway, settings)).key;
  }

  it('should refuse an upgrade without a gateway key with 401, before any upstream contact', async () => {
    const before = upstream.connections.length;
    const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
      headers: { Authorization: 'Bearer sk-a-provider-key' },
    });
    expect(refused.status).toBe(401);
    expect(upstream.connections.length).toBe(before);
  });

  it('should open the Realtime API with a gateway key, the held key going upstream instead', async () => {
    const key = await newKey();
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), [], {
      headers: { Authorization: `Bearer ${key}` },
    });
    const connection = await upstream.waitForConnection(before);
    expect(connection.headers.authorization).toBe(`Bearer ${HELD_KEY}`);
    expect(JSON.stringify(connection.headers)).not.toContain(key);
    const closed = closeOf(client);
    client.close(1000, 'done');
    await closed;
  });

  it("should take a gateway key from the browser's openai-insecure-api-key subprotocol and not pass it on", async () => {
    const key = await newKey();
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), [
      'realtime',
      `openai-insecure-api-key.${key}`,
    ]);
    const connection = await upstream.waitForConnection(before);
    expect(connection.headers.authorization).toBe(`Bearer ${HELD_KEY}`);
    expect(JSON.stringify(connection.headers)).not.toContain(key);
    expect(connection.headers['sec-websocket-protocol']).toBe('realtime');
    const closed = closeOf(client);
    client.close(1000, 'done');
    await closed;
  });

  it('should refuse a gateway key standing in for a session on the web routes, and a limited key naming no model', async () => {
    const key = await newKey();
    const session = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, '/claude/org/socket'), {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(session.status).toBe(401);
    const limited = await newKey({ models: ['gpt-realtime'] });
    const unnamed = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, '/openai/v1/realtime'), {
      headers: { Authorization: `Bearer ${limited}` },
    });
    expect(unnamed.status).toBe(403);
  });

  it('should refuse a model outside the key list with 403 and count upgrades against the key rpm', async () => {
    const limited = await newKey({ models: ['gpt-4o-mini'] });
    const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
      headers: { Authorization: `Bearer ${limited}` },
    });
    expect(refused.status).toBe(403);
    const once = await newKey({ rpm: 1 });
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), [], {
      headers: { Authorization: `Bearer ${once}` },
    });
    const closed = closeOf(client);
    client.close(1000, 'done');
    await closed;
    const second = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
      headers: { Authorization: `Bearer ${once}` },
    });
    expect(second.status).toBe(429);
  });
});
