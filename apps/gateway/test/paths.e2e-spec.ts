import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { loadGatewayConfig } from '../src/config/gateway.env';
import { createGatewayApp } from '../src/gateway.app';
// The raw upstream stands in for the services behind the gateway and records every request that reached one.
import { RawUpstream, rawRequest, refusedWebSocket, webSocketUrl, writeRaw } from '@openai-proxy/testing-fakes';
// Raw bytes as written: a WebSocket client would drop the fragment before sending.
import { sendRawBytes } from '../../openai-relay/test/support/hostile-input';

describe('GatewayRoutes paths', () => {
  let service: RawUpstream;
  let gateway: NestExpressApplication;
  let gatewayUrl: string;

  beforeAll(async () => {
    service = await RawUpstream.start(async (socket) => {
      await writeRaw(socket, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      socket.end();
    });
    gateway = await createGatewayApp(
      loadGatewayConfig({
        OPENAI_RELAY_URL: service.url,
        CLAUDE_BRIDGE_URL: service.url,
        BARD_BRIDGE_URL: service.url,
        LOG_LEVEL: 'silent',
      }),
    );
    await listenServiceApp(gateway, 0, '127.0.0.1');
    gatewayUrl = await gateway.getUrl();
  });

  afterAll(async () => {
    await gateway.close();
    await service.close();
  });

  it.each([
    '/anthropic/../../admin/keys',
    '/openai/%2e%2e/admin/keys',
    '/gemini/v1beta/..%2f..%2fadmin',
    '/claude/v1\\..\\..\\admin',
    '/admin/../openai/v1/models',
    '/openai/v1/models#@evil.example',
    '/anthropic/v1/models?limit=1#frag',
    '/v1/models#x',
    '/healthz#x',
  ])('should answer 400 without forwarding anything for %s', async (path) => {
    const answer = await rawRequest(gatewayUrl, 'GET', path);
    expect(answer.startsWith('HTTP/1.1 400')).toBe(true);
    expect(answer).toContain('"type":"invalid_request_error"');
    expect(service.heads).toEqual([]);
  });

  // Regression: an upgrade on a dot-segment path answered 404 while the same path over HTTP answered 400.
  it.each(['/openai/v1/..%2f..%2fadmin/realtime', '/anthropic/%252e%252e/v1/socket'])(
    'should answer a WebSocket upgrade 400 without forwarding anything for %s',
    async (path) => {
      const refused = await refusedWebSocket(webSocketUrl(gatewayUrl, path));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { type: 'invalid_request_error' } });
      expect(service.heads).toEqual([]);
    },
  );

  it('should answer a WebSocket upgrade whose target has a #fragment 400 without forwarding anything', async () => {
    const answers = await sendRawBytes(
      gatewayUrl,
      'GET /openai/v1/realtime#@evil.example HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(answers.statuses).toEqual([400]);
    expect(answers.text).toContain('"type":"invalid_request_error"');
    expect(answers.text).toContain('fragment');
    expect(service.heads).toEqual([]);
  });

  it('should forward an ordinary path to its service unchanged', async () => {
    const answer = await rawRequest(gatewayUrl, 'GET', '/openai/billing/credit_grants/?start_date=2024-01-01');
    expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
    expect(service.heads.at(-1)?.split('\r\n')[0]).toBe(
      'GET /openai/billing/credit_grants/?start_date=2024-01-01 HTTP/1.1',
    );
  });
});
