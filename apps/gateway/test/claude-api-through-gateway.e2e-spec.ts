import OpenAI from 'openai';
import { type Stack, startStack } from './support/stack';

// What the Anthropic routes do is tested on the claude-bridge (apps/claude-bridge/test/anthropic-openai-sdk.e2e-spec.ts,
// anthropic-relay-sdk.e2e-spec.ts and anthropic-credentials.e2e-spec.ts); here only that the gateway forwards them,
// plain and streamed.
describe('Claude through the Anthropic API, OpenAI-style (official openai SDK through the gateway)', () => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack();
    client = new OpenAI({ apiKey: 'sk-ant-api03-test-key', baseURL: `${stack.gatewayUrl}/claude/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should forward a chat completion to the claude-bridge with the key reaching Anthropic as x-api-key', async () => {
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake Anthropic upstream. You said: ping');
    expect(stack.anthropic.lastRequest('/v1/messages')?.headers['x-api-key']).toBe('sk-ant-api03-test-key');
  });

  it('should forward a streamed chat completion chunk by chunk, ending with stop and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: '流式 🚀' }],
      stream: true,
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(pieces.join('')).toBe('Hello from the fake Anthropic upstream. You said: 流式 🚀');
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
  });
});
