import type { NestExpressApplication } from '@nestjs/platform-express';
import OpenAI, { APIError } from 'openai';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { loadGatewayConfig } from '../src/config/gateway.env';
import { createGatewayApp } from '../src/gateway.app';
// The raw upstream stands in for the OpenAI relay service behind the gateway.
import { CLOSE_DELIMITED_SSE_HEAD, RawUpstream, writeRaw } from '@openai-proxy/testing-fakes';

const frame = (text: string): string => `data: {"text":"${text}"}\n\n`;

describe('GatewayRoutes stream endings', () => {
  let service: RawUpstream;
  let gateway: NestExpressApplication;
  let gatewayUrl: string;
  let body: string;

  beforeAll(async () => {
    service = await RawUpstream.start(async (socket) => {
      await writeRaw(socket, CLOSE_DELIMITED_SSE_HEAD + body);
      socket.end();
    });
    gateway = await createGatewayApp(
      loadGatewayConfig({ OPENAI_RELAY_URL: service.url, LOG_LEVEL: 'silent', STREAM_HEARTBEAT_MS: '0' }),
    );
    await listenServiceApp(gateway, 0, '127.0.0.1');
    gatewayUrl = await gateway.getUrl();
  });

  afterAll(async () => {
    await gateway.close();
    await service.close();
  });

  it('should end with an error frame, the unfinished frame dropped, when the service closes its connection in the middle of a frame', async () => {
    body = `${frame('a')}data: {"te`;
    const response = await fetch(`${gatewayUrl}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
    const text = await response.text();
    expect(text.startsWith(frame('a'))).toBe(true);
    expect(text.slice(frame('a').length)).toMatch(
      /^data: \{"error":\{[^\n]*"code":"upstream_connection_reset"[^\n]*\}\}\n\ndata: \[DONE\]\n\n$/,
    );
  });

  it("should give the official SDK the stream's chunks and then our error, not half an event, when the stream is cut in a frame", async () => {
    body = `${frame('a')}${frame('b')}data: {"text":"c`;
    const client = new OpenAI({ apiKey: 'sk-stream-endings', baseURL: `${gatewayUrl}/openai/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'cut' }],
      stream: true,
    });
    const seen: unknown[] = [];
    let failure: unknown;
    try {
      for await (const chunk of stream) {
        seen.push(chunk);
      }
    } catch (error) {
      failure = error;
    }
    expect(seen).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).code).toBe('upstream_connection_reset');
  });

  it('should end cleanly when the service closes its connection between frames', async () => {
    body = frame('a') + frame('b');
    const response = await fetch(`${gatewayUrl}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(await response.text()).toBe(body);
  });
});
