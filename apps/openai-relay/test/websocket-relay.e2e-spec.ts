import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import request from 'supertest';
import { listenServiceApp, shutdownServiceApp } from '@openai-proxy/feature-platform';
import {
  FakeConnectProxy,
  FakeSocks5Proxy,
  FakeUpstream,
  FakeWebSocketUpstream,
  closeOf,
  nextControlFrame,
  nextMessage,
  openWebSocket,
  refusedWebSocket,
  stall,
  webSocketUrl,
} from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { createOpenAiRelayApp } from '../src/openai-relay.app';

type Env = Record<string, string>;

const REALTIME = '/openai/v1/realtime?model=gpt-realtime';

/** Sends one raw upgrade request; resolves with what came back once the relay closed the connection. */
function rawUpgrade(
  port: number,
  path: string,
  protocol = 'websocket',
  waitMs = 3_000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

describe('WebSocket relay on /openai/** (Realtime API)', () => {
  let upstream: FakeWebSocketUpstream;
  let relay: NestExpressApplication;
  let relayUrl: string;

  async function startRelay(env: Env): Promise<NestExpressApplication> {
    const app = await createOpenAiRelayApp(loadOpenAiRelayConfig({ LOG_LEVEL: 'silent', ...env }));
    await listenServiceApp(app, 0, '127.0.0.1');
    return app;
  }

  beforeEach(async () => {
    upstream = await FakeWebSocketUpstream.start();
    relay = await startRelay({ OPENAI_API_BASE: `${upstream.url}/base` });
    relayUrl = await relay.getUrl();
  });

  afterEach(async () => {
    await relay.close();
    await upstream.close();
  });

  it('should relay text and binary frames byte for byte both ways when a client opens the Realtime API', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    const text = '{"type":"session.update","note":"héllo ✓"}';
    const binary = randomBytes(70_000);
    client.send(text);
    const textEcho = await nextMessage(client);
    client.send(binary);
    const binaryEcho = await nextMessage(client);
    const connection = await upstream.waitForConnection();
    expect(connection.messages.map((message) => message.isBinary)).toEqual([false, true]);
    expect(connection.messages[0]?.data.toString('utf8')).toBe(text);
    expect(connection.messages[1]?.data.equals(binary)).toBe(true);
    expect(textEcho).toEqual({ data: Buffer.from(text), isBinary: false });
    expect(binaryEcho.isBinary).toBe(true);
    expect(binaryEcho.data.equals(binary)).toBe(true);
    const pushed = randomBytes(32);
    connection.socket.send(pushed, { binary: true });
    expect((await nextMessage(client)).data.equals(pushed)).toBe(true);
    client.close();
    await closeOf(client);
  });

  it('should keep the path and query under the base path when relaying an upgrade', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    const connection = await upstream.waitForConnection();
    expect(connection.url).toBe('/base/v1/realtime?model=gpt-realtime');
    client.close();
    await closeOf(client);
  });

  it('should filter upgrade request headers as for HTTP and pass the chosen subprotocol back', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME), ['realtime', 'openai-beta.realtime-v1'], {
      headers: {
        Authorization: 'Bearer sk-test-realtime',
        'OpenAI-Beta': 'realtime=v1',
        Cookie: 'session=secret',
        'Keep-Alive': 'timeout=5',
        'Proxy-Authorization': 'Basic abc',
      },
    });
    const connection = await upstream.waitForConnection();
    expect(connection.headers.authorization).toBe('Bearer sk-test-realtime');
    expect(connection.headers['openai-beta']).toBe('realtime=v1');
    expect(connection.headers.cookie).toBeUndefined();
    expect(connection.headers['keep-alive']).toBeUndefined();
    expect(connection.headers['proxy-authorization']).toBeUndefined();
    expect(connection.headers.host).toBe(new URL(upstream.url).host);
    expect(connection.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(connection.headers['sec-websocket-protocol']?.split(/,\s*/)).toEqual([
      'realtime',
      'openai-beta.realtime-v1',
    ]);
    expect(connection.protocol).toBe('realtime');
    expect(client.protocol).toBe('realtime');
    client.close();
    await closeOf(client);
  });

  it('should carry pings and pongs end to end in both directions', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    const connection = await upstream.waitForConnection();
    const pong = nextControlFrame(client, 'pong');
    client.ping(Buffer.from('from-client'));
    expect((await pong).toString()).toBe('from-client');
    expect(connection.pings.map(String)).toEqual(['from-client']);
    const ping = nextControlFrame(client, 'ping');
    connection.socket.ping(Buffer.from('from-upstream'));
    expect((await ping).toString()).toBe('from-upstream');
    await upstream.waitFor(() => (connection.pongs.length > 0 ? connection.pongs : undefined));
    expect(connection.pongs.map(String)).toEqual(['from-upstream']);
    client.close();
    await closeOf(client);
  });

  it('should pass the close code and reason to the upstream when the client closes', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    await upstream.waitForConnection();
    const closed = closeOf(client);
    client.close(4001, 'client done');
    expect(await upstream.waitForClose()).toEqual({ code: 4001, reason: 'client done' });
    expect((await closed).code).toBe(4001);
  });

  it('should close the upstream without a code when the client closes without one', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    await upstream.waitForConnection();
    const closed = closeOf(client);
    client.close();
    expect((await upstream.waitForClose()).code).toBe(1005);
    await closed;
  });

  it('should pass the close code and reason to the client when the upstream closes', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    const connection = await upstream.waitForConnection();
    const closed = closeOf(client);
    connection.socket.close(4002, 'upstream done');
    expect(await closed).toEqual({ code: 4002, reason: 'upstream done' });
  });

  it('should close the upstream connection within a second when the client socket is destroyed', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    await upstream.waitForConnection();
    const started = Date.now();
    client.terminate();
    await upstream.waitForClose(0, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    await upstream.waitFor(() => (upstream.openConnections === 0 ? true : undefined), 1_000);
  });

  it.each([401, 403])('should answer the upstream status %i when the upstream refuses the upgrade', async (status) => {
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } });
    upstream.refusal = { status, body, headers: { 'x-request-id': 'req_upstream' } };
    const refused = await refusedWebSocket(webSocketUrl(relayUrl, REALTIME));
    expect(refused.status).toBe(status);
    expect(refused.headers['content-type']).toBe('application/json');
    expect(refused.body).toBe(body);
    expect(upstream.refused).toHaveLength(1);
  });

  it('should answer 503 upstream_unavailable when the upstream refuses the connection', async () => {
    const down = await startRelay({ OPENAI_API_BASE: 'http://127.0.0.1:9' });
    try {
      const refused = await refusedWebSocket(webSocketUrl(await down.getUrl(), REALTIME));
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'upstream_unavailable' } });
    } finally {
      await down.close();
    }
  });

  it('should answer 404 and close the connection when no relay owns the upgraded path', async () => {
    const port = Number(new URL(relayUrl).port);
    const answer = await rawUpgrade(port, '/not-a-relay/realtime');
    expect(answer.text.startsWith('HTTP/1.1 404')).toBe(true);
    expect(answer.text).toContain('"code":"not_found"');
    expect(answer.closed).toBe(true);
    expect(upstream.connections).toHaveLength(0);
  });

  it('should serve an upgrade to something other than WebSocket as the plain request it is', async () => {
    const answer = await rawUpgrade(Number(new URL(relayUrl).port), '/healthz', 'h2c');
    expect(answer.text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(answer.closed).toBe(true);
  });

  it('should answer 504 upstream_timeout when the upstream does not answer the upgrade in time', async () => {
    const silent = await FakeUpstream.start();
    silent.on('GET', '/v1/realtime', stall());
    const slow = await startRelay({ OPENAI_API_BASE: silent.url, UPSTREAM_HEADERS_TIMEOUT_MS: '300' });
    try {
      const refused = await refusedWebSocket(webSocketUrl(await slow.getUrl(), REALTIME));
      expect(refused.status).toBe(504);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'upstream_timeout' } });
      const attempt = silent.lastRequest('/v1/realtime');
      expect(attempt).toBeDefined();
      await silent.waitForClose(attempt as NonNullable<typeof attempt>, 1_000);
    } finally {
      await slow.close();
      await silent.close();
    }
  });

  it('should abandon the upstream attempt when the client leaves before the upstream answered', async () => {
    const silent = await FakeUpstream.start();
    silent.on('GET', '/v1/realtime', stall());
    const slow = await startRelay({ OPENAI_API_BASE: silent.url });
    try {
      const client = connect(Number(new URL(await slow.getUrl()).port), '127.0.0.1');
      client.on('error', () => undefined);
      client.write(
        `GET ${REALTIME} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      const attempt = await silent.waitForRequest((arrived) => arrived.url.startsWith('/v1/realtime'));
      const started = Date.now();
      client.destroy();
      await silent.waitForClose(attempt, 1_000);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await slow.close();
      await silent.close();
    }
  });

  it('should count a relayed upgrade in the request metrics', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    const closed = closeOf(client);
    client.close(1000);
    await closed;
    await upstream.waitForClose();
    const metrics = await request(relayUrl).get('/metrics');
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/openai\/\*path",status="101"\} 1/);
  });

  it('should close open WebSockets with 1001 on both sides when the app closes', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    await upstream.waitForConnection();
    const closed = closeOf(client);
    await relay.close();
    expect((await closed).code).toBe(1001);
    expect((await upstream.waitForClose()).code).toBe(1001);
    relay = await startRelay({ OPENAI_API_BASE: upstream.url });
  });

  it('should close open WebSockets with 1001 at the drain cap on shutdown', async () => {
    const client = await openWebSocket(webSocketUrl(relayUrl, REALTIME));
    await upstream.waitForConnection();
    const closed = closeOf(client);
    const started = Date.now();
    await shutdownServiceApp(relay, loadOpenAiRelayConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform);
    expect((await closed).code).toBe(1001);
    expect((await upstream.waitForClose()).code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(3_000);
    relay = await startRelay({ OPENAI_API_BASE: upstream.url });
  });

  it('should tunnel the upstream WebSocket through HTTPS_PROXY when one is configured', async () => {
    const proxy = await FakeConnectProxy.start();
    const proxied = await startRelay({ OPENAI_API_BASE: upstream.url, HTTPS_PROXY: proxy.url });
    try {
      const client = await openWebSocket(webSocketUrl(await proxied.getUrl(), REALTIME));
      client.send('through the tunnel');
      expect((await nextMessage(client)).data.toString()).toBe('through the tunnel');
      expect(proxy.tunnels).toContain(new URL(upstream.url).host);
      client.close();
      await closeOf(client);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });

  it('should tunnel the upstream WebSocket through a SOCKS5 proxy when ALL_PROXY names one', async () => {
    const proxy = await FakeSocks5Proxy.start({ login: { username: 'clash', password: 's3cret' } });
    const proxied = await startRelay({
      OPENAI_API_BASE: upstream.url,
      ALL_PROXY: proxy.url('socks5h', 'clash:s3cret'),
    });
    try {
      const client = await openWebSocket(webSocketUrl(await proxied.getUrl(), REALTIME));
      client.send('through socks');
      expect((await nextMessage(client)).data.toString()).toBe('through socks');
      const { hostname, port } = new URL(upstream.url);
      expect(proxy.connects).toEqual([{ addressType: 'ipv4', host: hostname, port: Number(port), username: 'clash' }]);
      client.close();
      await closeOf(client);
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });
});
