import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anthropicMessagesResponseSchema, anthropicModelListSchema } from './anthropic.schema';

const fixture = JSON.parse(
  readFileSync(join(__dirname, '__fixtures__', 'response-thinking-tool.anthropic.json'), 'utf8'),
) as Record<string, unknown>;

describe('anthropicMessagesResponseSchema', () => {
  it('should accept the golden answer unchanged', () => {
    expect(anthropicMessagesResponseSchema.parse(fixture)).toEqual(fixture);
  });

  it('should leave out block kinds the bridge does not translate and accept a stop reason added later', () => {
    const parsed = anthropicMessagesResponseSchema.parse({
      ...fixture,
      content: [
        { type: 'redacted_thinking', data: 'x' },
        { type: 'text', text: 'hi' },
      ],
      stop_reason: 'model_context_window_exceeded',
    });
    expect([parsed.content, parsed.stop_reason]).toEqual([
      [{ type: 'text', text: 'hi' }],
      'model_context_window_exceeded',
    ]);
  });

  it.each([
    ['content that is not a list', { content: 'hi' }],
    ['a text block without text', { content: [{ type: 'text' }] }],
    ['usage counts as text', { usage: { input_tokens: '5' } }],
    ['no id', { id: undefined }],
  ])('should refuse an answer with %s', (_name, change) => {
    expect(anthropicMessagesResponseSchema.safeParse({ ...fixture, ...change }).success).toBe(false);
  });
});

describe('anthropicModelListSchema', () => {
  it('should accept a model list and refuse one whose data is not a list', () => {
    expect(anthropicModelListSchema.safeParse({ data: [{ type: 'model', id: 'claude-x' }] }).success).toBe(true);
    expect(anthropicModelListSchema.safeParse({ data: null }).success).toBe(false);
  });
});
