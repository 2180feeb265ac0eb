import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';
import { CLOSE_DELIMITED_SSE_HEAD, RawUpstream, writeRaw } from '@openai-proxy/testing-fakes';

const START = 'event: message_start\ndata: {"type":"message_start"}\n\n';
const DELTA = 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hi"}}\n\n';
const STOP = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
const ERROR_TAIL = /\n\ndata: \{"error":\{[^\n]*"code":"upstream_connection_reset"[^\n]*\}\}\n\ndata: \[DONE\]\n\n$/;

describe('AnthropicRelayRoute stream endings', () => {
  let upstream: RawUpstream;
  let bridge: NestExpressApplication;
  let bridgeUrl: string;
  let body: string;

  beforeAll(async () => {
    upstream = await RawUpstream.start(async (socket) => {
      await writeRaw(socket, CLOSE_DELIMITED_SSE_HEAD + body);
      socket.end();
    });
    bridge = await createClaudeBridgeApp(
      loadClaudeBridgeConfig({ ANTHROPIC_API_BASE: upstream.url, LOG_LEVEL: 'silent', STREAM_HEARTBEAT_MS: '0' }),
    );
    await listenServiceApp(bridge, 0, '127.0.0.1');
    bridgeUrl = await bridge.getUrl();
  });

  afterAll(async () => {
    await bridge.close();
    await upstream.close();
  });

  async function relayed(): Promise<string> {
    const response = await fetch(`${bridgeUrl}/anthropic/v1/messages`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(5_000),
    });
    return response.text();
  }

  it('should end a Messages stream with an error frame when the upstream closes before message_stop', async () => {
    body = START + DELTA;
    const text = await relayed();
    expect(text.startsWith(START + DELTA)).toBe(true);
    expect(text).toMatch(ERROR_TAIL);
  });

  it('should end a Messages stream cleanly after message_stop or an error event', async () => {
    body = START + DELTA + STOP;
    expect(await relayed()).toBe(body);
    body = `${START}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`;
    expect(await relayed()).toBe(body);
  });
});
