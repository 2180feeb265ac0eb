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

  /** The held key's breaker as /readyz shows it (`openai#1`). */
  async function heldKeyState(): Promise<unknown> {
    const ready = await fetch(`${stack.gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    const body = (await ready.json()) as { breakers?: { keys?: Record<string, { state?: unknown }> } };
    return body.breakers?.keys?.['openai#1']?.state;
  }

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

  // Regression: a provider's refusal of an upgrade reached the member as it came, a quote of the held key in it.
  it("should pass a provider's 403 refusal on without the held key, its status kept", async () => {
    const key = await newKey();
    upstream.refusal = {
      status: 403,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { message: `Project of ${HELD_KEY} may not use realtime` } }),
    };
    try {
      const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
        headers: { Authorization: `Bearer ${key}` },
      });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({ error: { message: 'Project of [REDACTED] may not use realtime' } });
    } finally {
      upstream.refusal = undefined;
    }
  });

  // Regression: the provider's 401 to the held key reached the member as it came, its body able to quote that
  // key. The one key then rests (and is lent anyway, there being no other).
  it("should answer the provider's 401 to the held key 502 provider_key_refused, quoting no key", async () => {
    const key = await newKey();
    upstream.refusal = {
      status: 401,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: { message: `Incorrect API key provided: ${HELD_KEY}`, code: 'invalid_api_key' } }),
    };
    const before = upstream.refused.length;
    await expect(heldKeyState()).resolves.toBe('closed');
    try {
      const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
        headers: { Authorization: `Bearer ${key}` },
      });
      expect(upstream.refused.slice(before).map((attempt) => attempt.headers.authorization)).toEqual([
        `Bearer ${HELD_KEY}`,
      ]);
      expect(refused.status).toBe(502);
      expect(refused.headers['x-should-retry']).toBe('false');
      expect(refused.body).not.toContain(HELD_KEY);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'provider_key_refused' } });
      // The refused key rests, as after a 401 on an HTTP route.
      await expect(heldKeyState()).resolves.toBe('open');
    } finally {
      upstream.refusal = undefined;
    }
  });

  it("should pass the provider's own refusals on, a 429 as it came", async () => {
    const key = await newKey();
    upstream.refusal = { status: 429, headers: { 'content-type': 'application/json' }, body: '{"error":"busy"}' };
    try {
      const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), {
        headers: { Authorization: `Bearer ${key}` },
      });
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 429, body: '{"error":"busy"}' });
    } finally {
      upstream.refusal = undefined;
    }
  });
});
