import OpenAI from 'openai';
import { type Stack, startStack } from './support/stack';

const ORG = 'dca2a902-a463-41f0-88cb-b047deb40178';
const SESSION = 'sk-ant-sid01-test-session';

// What the claude.ai routes do is tested on the claude-bridge (apps/claude-bridge/test/claude-web-routes.e2e-spec.ts);
// here only that the gateway forwards them, plain and streamed.
describe('claude.ai web bridge through the gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.close();
  });

  function client(): OpenAI {
    return new OpenAI({ apiKey: SESSION, baseURL: `${stack.gatewayUrl}/claude/${ORG}/v1`, maxRetries: 0 });
  }

  it('should forward a chat completion to the claude-bridge and answer it OpenAI-style', async () => {
    const completion = await client().chat.completions.create({
      model: 'claude-2.1',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe(' Hello from claude.ai. You said: Hi');
    expect(stack.claudeWeb.fake.lastRequest('/append_message')?.headers.cookie).toBe(`sessionKey=${SESSION}`);
  });

  it('should forward a streamed chat completion chunk by chunk, ending with stop', async () => {
    const stream = await client().chat.completions.create({
      model: 'claude-2.1',
      messages: [{ role: 'user', content: '你好' }],
      stream: true,
    });
    const pieces: string[] = [];
    const finish: Array<string | null> = [];
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? '');
      finish.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(pieces.filter((piece) => piece !== '')).toEqual([' Hello', ' from claude.ai.', ' You said: 你好']);
    expect(finish.filter((reason) => reason !== null)).toEqual(['stop']);
  });
});
