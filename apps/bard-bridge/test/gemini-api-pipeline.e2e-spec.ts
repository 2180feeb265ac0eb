import type { NestExpressApplication } from '@nestjs/platform-express';
import { MetricsService, listenServiceApp, shutdownServiceApp } from '@openai-proxy/feature-platform';
import {
  answerAfterShutdown,
  fakeGeminiGenerate,
  type FakeHandler,
  type FakeUpstream,
  json,
  metricSample,
  sse,
  stall,
  startFakeGemini,
} from '@openai-proxy/testing-fakes';
import { loadBardBridgeConfig } from '../src/config/bard-bridge.env';
import { createBardBridgeApp } from '../src/bard-bridge.app';

const KEY = 'AIzaPipelineKey0123456789';
const GENERATE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const frame = (body: unknown): string => `data: ${JSON.stringify(body)}\n\n`;
const textFrame = (text: string, finish?: string): string =>
  frame({
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, index: 0, ...(finish ? { finishReason: finish } : {}) },
    ],
  });

async function startBridge(gemini: FakeUpstream): Promise<{ app: NestExpressApplication; url: string }> {
  const app = await createBardBridgeApp(loadBardBridgeConfig({ GEMINI_API_BASE: gemini.url, LOG_LEVEL: 'silent' }));
  await listenServiceApp(app, 0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

function chat(url: string, prompt: string, stream: boolean, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/google/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gemini-2.5-flash', stream, messages: [{ role: 'user', content: prompt }] }),
    signal: signal ?? AbortSignal.timeout(10_000),
  });
}

/** The value of one Prometheus sample (0 when the series does not exist yet). */
/**
 * Resolves true at the app's next count of a client abort, false after `timeoutMs`: the counter moves once the
 * bridge has seen the client's socket close, a moment after the client let go, so it is awaited, not polled.
 */
function nextClientAbort(app: NestExpressApplication, timeoutMs = 3_000): Promise<boolean> {
  const counter = app.get(MetricsService).clientAborts;
  const increment = counter.inc.bind(counter);
  return new Promise<boolean>((resolve) => {
    const spy = jest.spyOn(counter, 'inc');
    const timer = setTimeout(() => {
      spy.mockRestore();
      resolve(false);
    }, timeoutMs);
    spy.mockImplementation((...args: Parameters<typeof counter.inc>) => {
      increment(...args);
      clearTimeout(timer);
      spy.mockRestore();
      resolve(true);
    });
  });
}

describe('ProviderCallService on the Gemini API route', () => {
  let gemini: FakeUpstream;
  let bridge: { app: NestExpressApplication; url: string };

  beforeAll(async () => {
    gemini = await startFakeGemini();
    bridge = await startBridge(gemini);
  });

  afterAll(async () => {
    await bridge.app.close();
    await gemini.close();
  });

  afterEach(() => {
    gemini.on('POST', GENERATE, fakeGeminiGenerate);
  });

  function streamWhenPromptIs(prompt: string, handler: FakeHandler): void {
    gemini.on('POST', GENERATE, (arrived, response) =>
      arrived.body.toString().includes(prompt) ? handler(arrived, response) : fakeGeminiGenerate(arrived, response),
    );
  }

  it('should end a stream with an error frame at a malformed frame while another stream on the bridge completes', async () => {
    streamWhenPromptIs(
      'malformed',
      sse({ frames: [textFrame('one'), 'data: null\n\n', textFrame('two', 'STOP')], intervalMs: 30 }),
    );
    const [bad, good] = await Promise.all([chat(bridge.url, 'malformed', true), chat(bridge.url, 'fine', true)]);
    const [badText, goodText] = await Promise.all([bad.text(), good.text()]);
    expect(badText).toContain('"content":"one"');
    expect(badText).not.toContain('"content":"two"');
    expect(badText).toContain('"code":"upstream_bad_response"');
    expect(badText.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(goodText).toContain('"finish_reason":"stop"');
    expect(goodText).not.toContain('"error"');
    expect((await chat(bridge.url, 'still there?', false)).status).toBe(200);
  });

  it('should end a stream cut in the middle of a frame with an error frame, never a clean [DONE]', async () => {
    streamWhenPromptIs('cut', sse({ frames: [textFrame('one'), 'data: {"candidates":[{"content":'] }));
    const text = await (await chat(bridge.url, 'cut', true)).text();
    expect(text).toContain('"code":"upstream_bad_response"');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('should finish a stream whose last frame has no blank line after it', async () => {
    streamWhenPromptIs('unterminated', sse({ frames: [textFrame('one'), textFrame('two', 'STOP').trimEnd()] }));
    const text = await (await chat(bridge.url, 'unterminated', true)).text();
    expect(text).toContain('"finish_reason":"stop"');
    expect(text).not.toContain('"error"');
  });

  it('should answer 502 upstream_bad_response when a 2xx answer has the wrong shape (it was a 500)', async () => {
    gemini.on('POST', GENERATE, json(200, { candidates: 'none' }));
    const completion = await chat(bridge.url, 'x', false);
    expect(completion.status).toBe(502);
    const body = (await completion.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'upstream_bad_response', message: expect.stringContaining('gemini') });
    expect(body.error.message).not.toContain(KEY);
    gemini.on('GET', '/v1beta/models', json(200, { models: [{ name: 5 }] }));
    const models = await fetch(`${bridge.url}/google/v1/models`, {
      headers: { authorization: `Bearer ${KEY}` },
      signal: AbortSignal.timeout(5_000),
    });
    expect(models.status).toBe(502);
  });

  it('should count a client that leaves as a client abort, not as an upstream bad response', async () => {
    const aborts = 'client_aborts_total{upstream="gemini"}';
    const badResponses = 'upstream_errors_total{upstream="gemini",kind="upstream_bad_response"}';
    const [abortsBefore, badBefore] = [
      await metricSample(bridge.url, aborts),
      await metricSample(bridge.url, badResponses),
    ];
    streamWhenPromptIs('leaving', stall());
    const controller = new AbortController();
    const counted = nextClientAbort(bridge.app);
    const pending = chat(bridge.url, 'leaving', false, controller.signal).catch((error: unknown) => error);
    const arrived = await gemini.waitForRequest((candidate) => candidate.body.toString().includes('leaving'));
    controller.abort();
    await pending;
    await gemini.waitForClose(arrived);
    expect(await counted).toBe(true);
    expect(await metricSample(bridge.url, aborts)).toBe(abortsBefore + 1);
    expect(await metricSample(bridge.url, badResponses)).toBe(badBefore);
  });

  it('should count a client that leaves in the middle of a stream as a client abort', async () => {
    const aborts = 'client_aborts_total{upstream="gemini"}';
    const before = await metricSample(bridge.url, aborts);
    streamWhenPromptIs('mid-stream', sse({ frames: [textFrame('one'), textFrame('two')], stallAfter: 1 }));
    const controller = new AbortController();
    const counted = nextClientAbort(bridge.app);
    const response = await chat(bridge.url, 'mid-stream', true, controller.signal);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const arrived = await gemini.waitForRequest((candidate) => candidate.body.toString().includes('mid-stream'));
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await gemini.waitForClose(arrived);
    expect(await counted).toBe(true);
    expect(await metricSample(bridge.url, aborts)).toBe(before + 1);
  });
});

describe('ProviderCallService at the drain cap', () => {
  let gemini: FakeUpstream;

  beforeAll(async () => {
    gemini = await startFakeGemini();
    gemini.on('POST', GENERATE, stall());
  });

  afterAll(async () => {
    await gemini.close();
  });

  it.each([
    ['a non-streamed call', false],
    ['a streamed call waiting for headers', true],
  ])('should answer 503 server_shutting_down to %s (it was reset)', async (_name, stream) => {
    const bridge = await startBridge(gemini);
    try {
      const before = gemini.requests.length;
      const pending = chat(bridge.url, 'slow', stream);
      await gemini.waitForRequest(() => gemini.requests.length > before);
      const drained = answerAfterShutdown(pending, () =>
        shutdownServiceApp(bridge.app, loadBardBridgeConfig({ SHUTDOWN_DRAIN_MS: '200' }).platform),
      );
      expect(await drained).toEqual({ status: 503, code: 'server_shutting_down' });
    } finally {
      await bridge.app.close();
    }
  });
});
