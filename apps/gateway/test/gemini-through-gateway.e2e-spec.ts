import OpenAI from 'openai';
import request from 'supertest';
import { type Stack, startStack } from './support/stack';

const KEY = 'AIzaTestKey0123456789';

// What the Gemini routes do is tested on the bard-bridge (apps/bard-bridge/test/gemini-openai-sdk.e2e-spec.ts and
// gemini-credentials.e2e-spec.ts); here only that the gateway forwards them, plain, streamed and relayed.
describe('Gemini through the Gemini API, OpenAI-style (official openai SDK through the gateway)', () => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack();
    client = new OpenAI({ apiKey: KEY, baseURL: `${stack.gatewayUrl}/google/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should forward a chat completion to the bard-bridge with the key reaching Gemini in x-goog-api-key', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake Gemini. You said: ping');
    expect(stack.gemini.lastRequest('/v1beta/models/')?.headers['x-goog-api-key']).toBe(KEY);
  });

  it('should forward a streamed chat completion chunk by chunk, ending with stop', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: '你好 🚀' }],
      stream: true,
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(pieces.join('')).toBe('Hello from the fake Gemini. You said: 你好 🚀');
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
  });

  it('should forward /gemini/** with its ?key= query and write the key in no log line of the stack', async () => {
    const listed = await request(stack.gatewayUrl).get(`/gemini/v1beta/models?key=${KEY}`);
    expect(listed.status).toBe(200);
    expect(stack.gemini.lastRequest('/v1beta/models')?.url).toBe(`/v1beta/models?key=${KEY}`);
    expect(stack.logs.text).toContain('/gemini/v1beta/models');
    expect(stack.logs.text).not.toContain('TestKey0123456789');
  });
});
