import Anthropic from '@anthropic-ai/sdk';
import { type ClaudeBridgeOnFakes, startClaudeBridgeOnFakes } from './support/claude-bridge-app';

describe('Anthropic relay (official @anthropic-ai/sdk against the claude-bridge)', () => {
  let bridge: ClaudeBridgeOnFakes;

  beforeAll(async () => {
    bridge = await startClaudeBridgeOnFakes();
  });

  afterAll(() => bridge.close());

  it('should relay messages with the key as the SDK sent it (Authorization: Bearer)', async () => {
    const sdk = new Anthropic({
      apiKey: 'sk-ant-relay-key',
      baseURL: `${bridge.url}/anthropic`,
      maxRetries: 0,
    });
    const message = await sdk.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content[0]).toEqual({ type: 'text', text: 'Hello from the fake Anthropic upstream. You said: hi' });
    const arrived = bridge.anthropic.lastRequest('/v1/messages');
    expect(arrived?.headers.authorization).toBe('Bearer sk-ant-relay-key');
    expect(arrived?.headers['x-api-key']).toBeUndefined();
  });

  it('should relay a stream untouched', async () => {
    const sdk = new Anthropic({
      apiKey: 'sk-ant-relay-key',
      baseURL: `${bridge.url}/anthropic`,
      maxRetries: 0,
    });
    const stream = sdk.messages.stream({
      model: 'claude-sonnet-4-6',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'yo' }],
    });
    const text: string[] = [];
    stream.on('text', (delta) => text.push(delta));
    const final = await stream.finalMessage();
    expect(text.join('')).toBe('Hello from the fake Anthropic upstream. You said: yo');
    expect(final.stop_reason).toBe('end_turn');
  });
});
