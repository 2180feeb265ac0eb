import OpenAI from 'openai';
import request from 'supertest';
import {
  type FakeUpstream,
  fakeChatCompletions,
  startFakeOpenAi,
  streamedText,
  thrownError,
} from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadOpenAiRelayConfig } from '../src/config/openai-relay.env';
import { type RunningRelay, startRelay } from './support/relay-app';

const KEY = 'sk-test-0123456789';

describe('OPENAI_COMPATIBLE_PROVIDERS in the openai-relay', () => {
  let deepseek: FakeUpstream;
  let qwen: FakeUpstream;
  let relay: RunningRelay;
  let relayUrl: string;

  const client = (name: string, apiKey = KEY): OpenAI =>
    new OpenAI({ apiKey, baseURL: `${relayUrl}/${name}/v1`, maxRetries: 0 });

  beforeAll(async () => {
    deepseek = await startFakeOpenAi();
    qwen = await startFakeOpenAi();
    qwen.on('POST', '/compatible-mode/v1/chat/completions', fakeChatCompletions);
    relay = await startRelay({
      OPENAI_API_BASE: 'http://127.0.0.1:9',
      OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${deepseek.url},qwen=${qwen.url}/compatible-mode/`,
    });
    relayUrl = relay.url;
  });

  afterAll(async () => {
    await relay.app.close();
    await deepseek.close();
    await qwen.close();
  });

  it('should relay a chat completion to the provider with the client key when the provider is configured', async () => {
    const completion = await client('deepseek').chat.completions.create({
      model: 'deepseek-chat',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    const arrived = deepseek.lastRequest('/v1/chat/completions');
    expect(arrived?.url).toBe('/v1/chat/completions');
    expect(arrived?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(qwen.requests).toHaveLength(0);
  });

  it('should stream chat chunks and keep the base path when the base URL has one', async () => {
    const stream = await client('qwen').chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: '流式' }],
      stream: true,
    });
    expect(await streamedText(stream)).toBe('Hello from the fake OpenAI upstream. You said: 流式');
    const arrived = qwen.lastRequest('/compatible-mode/');
    expect(arrived?.url).toBe('/compatible-mode/v1/chat/completions');
    expect(arrived?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('should pass an upstream 401 through with its status and message when the key is refused', async () => {
    const error = await client('deepseek', 'not-a-key')
      .models.list()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    expect((error as Error).message).toContain('Incorrect API key provided.');
  });

  it('should label the metrics with the provider prefix when a provider was relayed', async () => {
    const metrics = await request(relayUrl).get('/metrics');
    expect(metrics.text).toMatch(/http_requests_total\{method="POST",route="\/deepseek\/\*path",status="200"\} 1/);
  });

  it('should show each configured provider in /readyz without probing it', async () => {
    const before = deepseek.requests.length + qwen.requests.length;
    const ready = await request(relayUrl).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({
      deepseek: { ok: true, detail: 'configured, not probed' },
      qwen: { ok: true, detail: 'configured, not probed' },
    });
    expect(deepseek.requests.length + qwen.requests.length).toBe(before);
  });

  it('should list each configured provider route in /docs', async () => {
    const docs = await request(relayUrl).get('/docs/openapi.json');
    expect(docs.body.info.description).toContain('ANY /deepseek/**');
    expect(docs.body.info.description).toContain('ANY /qwen/**');
  });

  it.each([
    ['a bad URL', 'deepseek=not a url', 'deepseek'],
    ['a built-in prefix', 'anthropic=https://api.example.com', 'anthropic'],
    ['a duplicate', 'kimi=https://a.example,kimi=https://b.example', 'more than once'],
  ])('should stop the start naming the problem when the value has %s', (_, value, named) => {
    const { message } = thrownError(
      () => loadOpenAiRelayConfig({ OPENAI_COMPATIBLE_PROVIDERS: value }),
      ConfigValidationError,
    );
    expect(message).toContain('OPENAI_COMPATIBLE_PROVIDERS');
    expect(message).toContain(named);
  });
});
