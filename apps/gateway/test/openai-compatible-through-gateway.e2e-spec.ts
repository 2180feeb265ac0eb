import OpenAI from 'openai';
import request from 'supertest';
import { type FakeUpstream, fakeChatCompletions, startFakeOpenAi, streamedText } from '@openai-proxy/testing-fakes';
import { ConfigValidationError } from '@openai-proxy/util-config';
import { loadGatewayConfig } from '../src/config/gateway.env';
import { type Stack, startStack } from './support/stack';

const KEY = 'sk-test-0123456789';

/** The text of a streamed chat answer, read to its end. */
async function streamedAnswer(client: OpenAI, model: string, content: string): Promise<string> {
  return streamedText(
    await client.chat.completions.create({ model, messages: [{ role: 'user', content }], stream: true }),
  );
}

describe('OpenAI-compatible providers through the gateway', () => {
  let deepseek: FakeUpstream;
  let qwen: FakeUpstream;
  let stack: Stack;

  beforeAll(async () => {
    deepseek = await startFakeOpenAi();
    qwen = (await startFakeOpenAi()).on('POST', '/compatible-mode/v1/chat/completions', fakeChatCompletions);
    const providers = { OPENAI_COMPATIBLE_PROVIDERS: `deepseek=${deepseek.url},qwen=${qwen.url}/compatible-mode` };
    stack = await startStack({ relayEnv: providers, gatewayEnv: providers });
  });

  afterAll(async () => {
    await stack.close();
    await deepseek.close();
    await qwen.close();
  });

  const client = (name = 'deepseek'): OpenAI =>
    new OpenAI({ apiKey: KEY, baseURL: `${stack.gatewayUrl}/${name}/v1`, maxRetries: 0, timeout: 10_000 });

  it('should reach the relay provider through the gateway when the provider is configured in both', async () => {
    const completion = await client().chat.completions.create({
      model: 'deepseek-chat',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: ping');
    const arrived = deepseek.lastRequest('/v1/chat/completions');
    expect(arrived?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(stack.openai.lastRequest('/v1/chat/completions')).toBeUndefined();
  });

  it('should stream through both hops when the client asks for a stream', async () => {
    expect(await streamedAnswer(client(), 'deepseek-chat', 'stream')).toBe(
      'Hello from the fake OpenAI upstream. You said: stream',
    );
  });

  it('should answer the second provider, streamed and not, with its base path when two are configured', async () => {
    const completion = await client('qwen').chat.completions.create({
      model: 'qwen-plus',
      messages: [{ role: 'user', content: '你好' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake OpenAI upstream. You said: 你好');
    expect(await streamedAnswer(client('qwen'), 'qwen-plus', '流式')).toBe(
      'Hello from the fake OpenAI upstream. You said: 流式',
    );
    const arrived = qwen.requests.filter((recorded) => recorded.url === '/compatible-mode/v1/chat/completions');
    expect(arrived).toHaveLength(2);
    expect(arrived.map((recorded) => recorded.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
  });

  it('should label the gateway metrics with the provider prefix when a provider was forwarded', async () => {
    const metrics = await request(stack.gatewayUrl).get('/metrics');
    expect(metrics.text).toMatch(/http_requests_total\{method="POST",route="\/deepseek\/\*path",status="200"\} 2/);
  });

  it('should list the provider route in the gateway /docs when the provider is configured', async () => {
    const docs = await request(stack.gatewayUrl).get('/docs/openapi.json');
    expect(docs.body.info.description).toContain('/deepseek/**, /qwen/** (OpenAI-compatible providers)');
  });

  it('should keep an unconfigured name a 404 when the gateway does not know it', async () => {
    const response = await request(stack.gatewayUrl).post('/kimi/v1/chat/completions').send({});
    expect(response.status).toBe(404);
  });

  it('should stop the gateway start naming the problem when the value is bad', () => {
    expect(() => loadGatewayConfig({ OPENAI_COMPATIBLE_PROVIDERS: 'metrics=https://api.example.com' })).toThrow(
      ConfigValidationError,
    );
    expect(() => loadGatewayConfig({ OPENAI_COMPATIBLE_PROVIDERS: 'metrics=https://api.example.com' })).toThrow(
      /OPENAI_COMPATIBLE_PROVIDERS: provider name "metrics" collides/,
    );
  });
});
