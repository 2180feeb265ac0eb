import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  FakeWebSocketUpstream,
  closeOf,
  nextControlFrame,
  nextMessage,
  openWebSocket,
  refusedWebSocket,
  webSocketUrl,
} from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../../bard-bridge/src/config/bard-bridge.env';
import { createBardBridgeApp } from '../../bard-bridge/src/bard-bridge.app';
import { type Stack, startStack } from './support/stack';

const REALTIME = '/openai/v1/realtime?model=gpt-realtime';
const KEY = 'sk-test-realtime-0123456789';

describe('WebSocket upgrades through the gateway', () => {
  let upstream: FakeWebSocketUpstream;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await FakeWebSocketUpstream.start();
    stack = await startStack({
      relayEnv: { OPENAI_API_BASE: `${upstream.url}/base` },
      claudeEnv: { ANTHROPIC_API_BASE: upstream.url },
    });
  });

  afterAll(async () => {
    await stack.close();
    await upstream.close();
  });

  it('should relay frames, pings and closes through the gateway and the relay when a client opens the Realtime API', async () => {
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME), ['realtime'], {
      headers: { Authorization: `Bearer ${KEY}`, 'OpenAI-Beta': 'realtime=v1', Cookie: 'a=b' },
    });
    const connection = await upstream.waitForConnection(before);
    expect(connection.url).toBe('/base/v1/realtime?model=gpt-realtime');
    expect(connection.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(connection.headers['openai-beta']).toBe('realtime=v1');
    expect(connection.headers.cookie).toBeUndefined();
    expect(connection.headers.host).toBe(new URL(upstream.url).host);
    expect(client.protocol).toBe('realtime');
    const binary = randomBytes(4096);
    client.send('{"type":"response.create"}');
    expect(await nextMessage(client)).toEqual({ data: Buffer.from('{"type":"response.create"}'), isBinary: false });
    client.send(binary);
    const echoed = await nextMessage(client);
    expect(echoed.isBinary).toBe(true);
    expect(echoed.data.equals(binary)).toBe(true);
    const pong = nextControlFrame(client, 'pong');
    client.ping(Buffer.from('through'));
    expect((await pong).toString()).toBe('through');
    const closed = closeOf(client);
    client.close(4001, 'client done');
    expect(await upstream.waitForClose(before)).toEqual({ code: 4001, reason: 'client done' });
    expect((await closed).code).toBe(4001);
  });

  it('should pass an upstream close code through the gateway to the client', async () => {
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME));
    const connection = await upstream.waitForConnection(before);
    const closed = closeOf(client);
    connection.socket.close(4002, 'session expired');
    expect(await closed).toEqual({ code: 4002, reason: 'session expired' });
  });

  it('should close the upstream within a second when the client socket through the gateway is destroyed', async () => {
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME));
    await upstream.waitForConnection(before);
    client.terminate();
    expect((await upstream.waitForClose(before, 1_000)).code).toBe(1006);
  });

  it('should give the client the upstream refusal status and body through the gateway', async () => {
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } });
    upstream.refusal = { status: 401, body };
    try {
      const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME));
      expect(refused.status).toBe(401);
      expect(refused.body).toBe(body);
    } finally {
      upstream.refusal = undefined;
    }
  });

  it('should relay an upgrade on /anthropic/** through the gateway to the claude bridge', async () => {
    const before = upstream.connections.length;
    const client = await openWebSocket(webSocketUrl(stack.gatewayUrl, '/anthropic/v1/socket'), [], {
      headers: { 'x-api-key': 'sk-ant-test-0123456789' },
    });
    const connection = await upstream.waitForConnection(before);
    expect(connection.url).toBe('/v1/socket');
    expect(connection.headers['x-api-key']).toBe('sk-ant-test-0123456789');
    client.close();
    await closeOf(client);
  });

  it('should answer 404 for an upgrade on a forwarded prefix whose service relays no WebSocket there', async () => {
    const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, '/claude/v1/chat/completions'));
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('should answer 404 for an upgrade on a path the gateway does not forward', async () => {
    const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, '/v1/realtime'));
    expect(refused.status).toBe(404);
  });

  it('should keep credentials out of the logs of a relayed upgrade', async () => {
    const before = upstream.connections.length;
    const linesBefore = stack.logs.lines.length;
    const client = await openWebSocket(
      webSocketUrl(stack.gatewayUrl, REALTIME),
      ['realtime', 'openai-insecure-api-key.sk-test-subprotocol-secret'],
      { headers: { Authorization: `Bearer ${KEY}` } },
    );
    await upstream.waitForConnection(before);
    const closed = closeOf(client);
    client.close(1000);
    await closed;
    await upstream.waitForClose(before);
    // The access line is written when the upgraded socket closes, a moment after the client saw the close.
    expect(await stack.logs.waitFor('"statusCode":101', { from: linesBefore })).toBe(true);
    expect(stack.logs.text).not.toContain(KEY);
    expect(stack.logs.text).not.toContain('sk-test-subprotocol-secret');
  });
});

describe('WebSocket upgrades through the gateway with a rate limit', () => {
  let upstream: FakeWebSocketUpstream;
  let stack: Stack;

  beforeAll(async () => {
    upstream = await FakeWebSocketUpstream.start();
    stack = await startStack({
      relayEnv: { OPENAI_API_BASE: upstream.url },
      gatewayEnv: { RATE_LIMIT_PER_MINUTE: '1' },
    });
  });

  afterAll(async () => {
    await stack.close();
    await upstream.close();
  });

  it('should answer 429 with Retry-After to an upgrade over the rate limit', async () => {
    const first = await openWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME));
    const refused = await refusedWebSocket(webSocketUrl(stack.gatewayUrl, REALTIME));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(upstream.connections).toHaveLength(1);
    first.close();
    await closeOf(first);
  });
});

describe('WebSocket upgrades on /gemini/**', () => {
  let upstream: FakeWebSocketUpstream;
  let bridge: NestExpressApplication;

  beforeAll(async () => {
    upstream = await FakeWebSocketUpstream.start();
    bridge = await createBardBridgeApp(loadBardBridgeConfig({ GEMINI_API_BASE: upstream.url, LOG_LEVEL: 'silent' }));
    await listenServiceApp(bridge, 0, '127.0.0.1');
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  it('should relay an upgrade on the Gemini prefix with the key as for HTTP', async () => {
    const path = '/gemini/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
    const client = await openWebSocket(webSocketUrl(await bridge.getUrl(), path), [], {
      headers: { 'x-goog-api-key': 'AIzaTestKey0123456789' },
    });
    const connection = await upstream.waitForConnection();
    expect(connection.url).toBe(path.slice('/gemini'.length));
    expect(connection.headers['x-goog-api-key']).toBe('AIzaTestKey0123456789');
    client.send('{"setup":{}}');
    expect((await nextMessage(client)).data.toString()).toBe('{"setup":{}}');
    client.close();
    await closeOf(client);
  });
});
