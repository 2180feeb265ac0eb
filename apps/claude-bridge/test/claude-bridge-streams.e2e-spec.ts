import type { NestExpressApplication } from '@nestjs/platform-express';
import { listenServiceApp } from '@openai-proxy/feature-platform';
import {
  type FakeUpstream,
  emptyConversation,
  json,
  sse,
  startFakeAnthropic,
  startFakeClaudeWeb,
} from '@openai-proxy/testing-fakes';
import { encodeSseData } from '@openai-proxy/util-sse';
import { loadClaudeBridgeConfig } from '../src/config/claude-bridge.env';
import { createClaudeBridgeApp } from '../src/claude-bridge.app';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-streams-session';
const API_KEY = 'sk-ant-api03-streams-key';
const completionEvent = (completion: string, stopReason: string | null): string =>
  encodeSseData({ completion, stop_reason: stopReason, model: 'claude-2.1' });

describe('claude-bridge streams from malformed or cut provider answers', () => {
  let anthropic: FakeUpstream;
  let claudeWeb: Awaited<ReturnType<typeof startFakeClaudeWeb>>;
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    anthropic = await startFakeAnthropic();
    claudeWeb = await startFakeClaudeWeb();
    app = await createClaudeBridgeApp(
      loadClaudeBridgeConfig({
        ANTHROPIC_API_BASE: anthropic.url,
        CLAUDE_WEB_BASE: claudeWeb.fake.url,
        CLAUDE_AUTO_DELETE_CONVERSATION: 'false',
        LOG_LEVEL: 'silent',
      }),
    );
    await listenServiceApp(app, 0, '127.0.0.1');
    url = await app.getUrl();
    claudeWeb.conversations.set('conv', emptyConversation('conv'));
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([anthropic.close(), claudeWeb.fake.close()]);
  });

  function post(path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    return fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  }

  it('should end a raw append_message stream that stops before its stop_reason with an error frame (it ended cleanly)', async () => {
    claudeWeb.fake.on('POST', '/append_message', sse({ frames: [completionEvent(' Hello', null)] }));
    const response = await post(
      '/claude/append_message',
      { organization_uuid: ORG, conversation_uuid: 'conv', text: 'hi', completion: { prompt: 'hi' } },
      { cookie: `sessionKey=${SESSION}`, accept: 'text/event-stream' },
    );
    const text = await response.text();
    expect(text.startsWith(completionEvent(' Hello', null))).toBe(true);
    expect(text).toContain('"code":"upstream_connection_reset"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  function appendRaw(): Promise<Response> {
    return post(
      '/claude/append_message',
      { organization_uuid: ORG, conversation_uuid: 'conv', text: 'hi', completion: { prompt: 'hi' } },
      { cookie: `sessionKey=${SESSION}`, accept: 'text/event-stream' },
    );
  }

  it('should relay a complete raw append_message stream untouched when a non-JSON line comes before its stop_reason (it got an error frame)', async () => {
    const frames = [completionEvent(' Hello', null), 'data: not json\n\n', completionEvent('', 'stop_sequence')];
    claudeWeb.fake.on('POST', '/append_message', sse({ frames }));
    const text = await (await appendRaw()).text();
    expect(text).toBe(frames.join(''));
  });

  it('should relay a complete Messages-shaped raw append_message stream untouched when it ends with message_stop (it got an error frame)', async () => {
    const frames = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","stop_reason":null}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ];
    claudeWeb.fake.on('POST', '/append_message', sse({ frames }));
    const text = await (await appendRaw()).text();
    expect(text).toBe(frames.join(''));
  });

  it('should end a Messages-shaped raw append_message stream cut before message_stop with an error frame', async () => {
    const frames = ['event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n'];
    claudeWeb.fake.on('POST', '/append_message', sse({ frames }));
    const text = await (await appendRaw()).text();
    expect(text.startsWith(frames[0] ?? '')).toBe(true);
    expect(text).toContain('"code":"upstream_connection_reset"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should end a raw append_message stream cut in the middle of its stop_reason frame with an error frame', async () => {
    claudeWeb.fake.on(
      'POST',
      '/append_message',
      sse({ frames: [completionEvent(' Hello', null), 'data: {"completion":"","stop_reason":"stop_seq'] }),
    );
    const text = await (await appendRaw()).text();
    expect(text).toContain('"code":"upstream_connection_reset"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should end an OpenAI-style claude.ai stream at a malformed event with an error frame, and keep serving', async () => {
    claudeWeb.fake.on(
      'POST',
      '/append_message',
      sse({
        frames: [completionEvent(' Hello', null), 'data: {"error":null}\n\n', completionEvent('', 'stop_sequence')],
      }),
    );
    const body = { model: 'claude-2.1', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const broken = await post(`/claude/${ORG}/conv/v1/chat/completions`, body, { authorization: `Bearer ${SESSION}` });
    const text = await broken.text();
    expect(text).toContain('"content":" Hello"');
    expect(text).toContain('"code":"upstream_bad_response"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    claudeWeb.fake.on('POST', '/append_message', sse({ frames: [completionEvent(' Fine', 'stop_sequence')] }));
    const fine = await post(
      `/claude/${ORG}/conv/v1/chat/completions`,
      { ...body, stream: false },
      {
        authorization: `Bearer ${SESSION}`,
      },
    );
    expect(fine.status).toBe(200);
  });

  it('should answer 502 upstream_bad_response when the Anthropic API answers 2xx with the wrong shape', async () => {
    anthropic.on('POST', '/v1/messages', json(200, { id: 'msg_x', type: 'message', content: 'not a list' }));
    const response = await post(
      '/claude/v1/chat/completions',
      { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${API_KEY}` },
    );
    expect(response.status).toBe(502);
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe('upstream_bad_response');
    expect(answer.error.message).not.toContain(API_KEY);
  });
});
