import OpenAI from 'openai';
import request from 'supertest';
import { ReadinessService, ShutdownService, shutdownServiceApp } from '@openai-proxy/feature-platform';
import { delayed, fakeChatCompletions, json, reset, sse, stall } from '@openai-proxy/testing-fakes';
import { loadOpenAiRelayConfig } from '../../openai-relay/src/config/openai-relay.env';
import { type Stack, startStack } from './support/stack';

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

async function readText(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

describe('RelayService failures through the gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      relayEnv: {
        UPSTREAM_HEADERS_TIMEOUT_MS: '300',
        UPSTREAM_IDLE_TIMEOUT_MS: '400',
        STREAM_HEARTBEAT_MS: '100',
        MAX_RELAY_BODY_BYTES: '1024',
      },
    });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer 504 upstream_timeout when the upstream sends no headers in time', async () => {
    stack.openai.on('GET', '/v1/slow', stall());
    const response = await request(stack.gatewayUrl).get('/openai/v1/slow');
    expect(response.status).toBe(504);
    expect(response.body.error).toMatchObject({ code: 'upstream_timeout', type: 'timeout_error', param: null });
    expect(response.body.error.message).toContain('openai');
  });

  it('should answer 502 when the upstream resets the connection before answering', async () => {
    stack.openai.on('GET', '/v1/reset', reset());
    const response = await request(stack.gatewayUrl).get('/openai/v1/reset');
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('upstream_connection_reset');
  });

  it('should end a stream that goes idle with an error frame, never a clean success', async () => {
    stack.openai.on(
      'POST',
      '/v1/chat/completions',
      sse({ frames: [chunk('a'), chunk('b'), chunk('c')], stallAfter: 2 }),
    );
    const { status, text } = await readText(`${stack.gatewayUrl}/openai/v1/chat/completions`, {
      method: 'POST',
      body: '{}',
    });
    expect(status).toBe(200);
    expect(text.startsWith(chunk('a') + chunk('b'))).toBe(true);
    expect(text).toContain('"code":"upstream_timeout"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should make the SDK raise on a stream that went idle', async () => {
    stack.openai.on('POST', '/v1/chat/completions', sse({ frames: [chunk('a'), chunk('b')], stallAfter: 1 }));
    const client = new OpenAI({ apiKey: 'sk-x', baseURL: `${stack.gatewayUrl}/openai/v1`, maxRetries: 0 });
    const outcome = await (async () => {
      for await (const part of await client.chat.completions.create({ model: 'm', messages: [], stream: true })) {
        void part;
      }
      return 'completed';
    })().catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(OpenAI.APIError);
  });

  it('should send a ping comment between frames while a stream is idle, without splitting frames', async () => {
    stack.openai.on(
      'POST',
      '/v1/chat/completions',
      sse({ frames: [chunk('a'), chunk('b'), 'data: [DONE]\n\n'], intervalMs: 350, splitBytes: 7 }),
    );
    const { text } = await readText(`${stack.gatewayUrl}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(text).toContain(': ping\n\n');
    expect(text.replace(/: ping\n\n/g, '')).toBe(chunk('a') + chunk('b') + 'data: [DONE]\n\n');
  });

  it('should refuse a body over MAX_RELAY_BODY_BYTES with 413 before contacting the upstream', async () => {
    const before = stack.openai.requests.length;
    const declared = await request(stack.relayUrl).post('/openai/v1/files').send('x'.repeat(2048));
    expect(declared.status).toBe(413);
    expect(declared.body.error.code).toBe('payload_too_large');
    expect(stack.openai.requests.length).toBe(before);
  });

  it('should refuse a chunked body that grows over the limit with 413 before contacting the upstream', async () => {
    stack.openai.on('POST', '/v1/upload-chunked', delayed(200, json(200, { ok: true })));
    const before = stack.openai.arrivals;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(800));
        controller.enqueue(new Uint8Array(800));
        controller.close();
      },
    });
    const response = await fetch(`${stack.relayUrl}/openai/v1/upload-chunked`, {
      method: 'POST',
      body,
      duplex: 'half',
    });
    expect(response.status).toBe(413);
    expect(stack.openai.arrivals).toBe(before);
  });

  it('should pass a malformed JSON body to OpenAI unchanged and return its 400', async () => {
    stack.openai.on('POST', '/v1/chat/completions', fakeChatCompletions);
    const response = await request(stack.gatewayUrl)
      .post('/openai/v1/chat/completions')
      .set('Authorization', 'Bearer sk-x')
      .set('Content-Type', 'application/json')
      .send('{"model": "gpt-4o-mini", "messages": [');
    expect(response.status).toBe(400);
    expect(stack.openai.lastRequest('/v1/chat/completions')?.body.toString()).toBe(
      '{"model": "gpt-4o-mini", "messages": [',
    );
  });
});

describe('RelayService with an unreachable upstream', () => {
  it('should answer 503 naming the upstream when nothing listens there', async () => {
    const stack = await startStack({ relayEnv: { OPENAI_API_BASE: 'http://127.0.0.1:9' } });
    try {
      const response = await request(stack.gatewayUrl).get('/openai/v1/models').set('Authorization', 'Bearer sk-x');
      expect(response.status).toBe(503);
      expect(response.body.error).toMatchObject({
        code: 'upstream_unavailable',
        message: 'Upstream openai refused the connection',
      });
      const metrics = await request(stack.relayUrl).get('/metrics');
      expect(metrics.text).toContain('upstream_errors_total{upstream="openai",kind="upstream_unavailable"} 1');
    } finally {
      await stack.close();
    }
  });

  it('should answer 503 at the gateway when the relay itself is down, and report it in /readyz', async () => {
    const stack = await startStack();
    try {
      await stack.relay.close();
      const response = await request(stack.gatewayUrl).get('/openai/v1/models');
      expect(response.status).toBe(503);
      expect(response.body.error.message).toBe('Upstream openai-relay refused the connection');
      const ready = await request(stack.gatewayUrl).get('/readyz');
      expect(ready.body.checks['openai-relay'].ok).toBe(false);
      expect(ready.body.checks['claude-bridge'].ok).toBe(true);
    } finally {
      await stack.close();
    }
  });
});

describe('credential canary', () => {
  it('should never write a credential to the logs, even at debug level and on failures', async () => {
    const stack = await startStack({ relayEnv: { UPSTREAM_HEADERS_TIMEOUT_MS: '200' } });
    try {
      stack.openai.on('GET', '/v1/slow', stall());
      const canaries = {
        authorization: 'Bearer sk-canary-AAAA1111',
        'x-api-key': 'canary-anthropic-BBBB2222',
        'x-goog-api-key': 'canary-google-CCCC3333',
        cookie: 'sessionKey=sk-ant-sid01-canary-DDDD4444; __Secure-1PSID=canary-EEEE5555',
        'api-key': 'canary-azure-GGGG7777',
        'x-auth-token': 'canary-token-HHHH8888',
        'x-request-id': 'sk-canary-IIII9999',
      };
      const responses: request.Response[] = [];
      for (const path of [
        '/openai/v1/models',
        '/openai/v1/slow',
        '/openai/v1/models?key=canary-FFFF6666',
        '/openai/v1/models?x-api-key=canary-JJJJ0000',
        '/openai/v1/models;key=canary-KKKK1111',
        '/openai/v1/models?user_token=canary-LLLL2222',
        '/openai/v1/models?bearer=canary-MMMM3333',
        '/claude/v1/models',
        '/openai/billing/credit_grants',
      ]) {
        responses.push(await request(stack.gatewayUrl).get(path).set(canaries));
      }
      await request(stack.gatewayUrl).post('/openai/v1/chat/completions').set(canaries).send('{"messages":[]}');
      expect(stack.logs.lines.length).toBeGreaterThan(10);
      expect(stack.logs.text).toContain('"headers"');
      expect(stack.logs.text).toContain('/openai/v1/slow');
      expect(stack.logs.text).toContain('x-auth-token');
      for (const secret of [
        'AAAA1111',
        'BBBB2222',
        'CCCC3333',
        'DDDD4444',
        'EEEE5555',
        'FFFF6666',
        'GGGG7777',
        'HHHH8888',
        'IIII9999',
        'JJJJ0000',
        'KKKK1111',
        'LLLL2222',
        'MMMM3333',
      ]) {
        expect(stack.logs.text).not.toContain(secret);
      }
      for (const response of responses) {
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
      const ownId = String(responses[0]?.headers['x-request-id']);
      const linesWithOwnId = stack.logs.lines.filter((line) => line.includes(`"id":"${ownId}"`));
      expect(linesWithOwnId.some((line) => line.includes('"service":"gateway"'))).toBe(true);
      expect(linesWithOwnId.some((line) => line.includes('"service":"openai-relay"'))).toBe(true);
    } finally {
      await stack.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('should fail readiness, let an in-flight stream finish, and refuse new connections', async () => {
    const stack = await startStack({ relayEnv: { SHUTDOWN_DRAIN_MS: '5000' } });
    try {
      stack.openai.on(
        'POST',
        '/v1/chat/completions',
        sse({ frames: [chunk('a'), chunk('b'), chunk('c'), 'data: [DONE]\n\n'], intervalMs: 150 }),
      );
      const streaming = readText(`${stack.relayUrl}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
      await stack.openai.waitForRequest((arrived) => arrived.url === '/v1/chat/completions');
      const drained = shutdownServiceApp(stack.relay, loadOpenAiRelayConfig({ SHUTDOWN_DRAIN_MS: '5000' }).platform);
      expect(stack.relay.get(ShutdownService).isDraining).toBe(true);
      expect((await stack.relay.get(ReadinessService).report()).status).toBe('shutting_down');
      const { text } = await streaming;
      expect(text).toBe(chunk('a') + chunk('b') + chunk('c') + 'data: [DONE]\n\n');
      await drained;
      await expect(fetch(`${stack.relayUrl}/healthz`)).rejects.toThrow();
    } finally {
      await stack.close();
    }
  });

  it('should end streams still open at the drain cap with a server_shutting_down error frame', async () => {
    const stack = await startStack();
    try {
      stack.openai.on('POST', '/v1/chat/completions', sse({ frames: [chunk('a'), chunk('b')], stallAfter: 1 }));
      const streaming = readText(`${stack.relayUrl}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
      const arrived = await stack.openai.waitForRequest((candidate) => candidate.url === '/v1/chat/completions');
      const ready = await request(stack.relayUrl).get('/readyz');
      expect(ready.status).toBe(200);
      await shutdownServiceApp(stack.relay, loadOpenAiRelayConfig({ SHUTDOWN_DRAIN_MS: '300' }).platform);
      const { text } = await streaming;
      expect(text.startsWith(chunk('a'))).toBe(true);
      expect(text).toContain('"code":"server_shutting_down"');
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      await stack.openai.waitForClose(arrived, 2_000);
    } finally {
      await stack.close();
    }
  });
});
