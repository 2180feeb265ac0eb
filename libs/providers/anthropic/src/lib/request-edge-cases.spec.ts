import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { toAnthropicRequest } from './request.transform';

function translate(extra: Partial<ChatCompletionRequest>): ReturnType<typeof toAnthropicRequest> {
  return toAnthropicRequest(
    { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }], ...extra },
    { defaultMaxTokens: 16 },
  );
}

describe('toAnthropicRequest edge cases (regressions: each was refused by Anthropic with a 400)', () => {
  it.each([
    [{}, { type: 'object', properties: {} }],
    [{ properties: { city: { type: 'string' } } }, { type: 'object', properties: { city: { type: 'string' } } }],
    [{ type: 'object' }, { type: 'object', properties: {} }],
  ])('should send the tool parameters %p with a type and properties', (parameters, expected) => {
    const { body } = translate({ tools: [{ type: 'function', function: { name: 'now', parameters } }] });
    expect(body.tools?.[0]?.input_schema).toEqual(expected);
  });

  it('should send temperature alone when top_p comes with it, and say so in a note', () => {
    const both = translate({ temperature: 0.5, top_p: 0.9 });
    expect(both.body.temperature).toBe(0.5);
    expect(both.body).not.toHaveProperty('top_p');
    expect(both.notes).toEqual([expect.stringContaining('top_p')]);
    const alone = translate({ top_p: 0.9 });
    expect(alone.body.top_p).toBe(0.9);
    expect(alone.notes).toEqual([]);
  });

  it('should leave out empty text parts, and an empty turn between two of the same role', () => {
    const { body } = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'a' },
          ],
        },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'b' },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
  });

  it.each([
    ['[1]', { value: [1] }],
    ['null', { value: null }],
    ['"x"', { value: 'x' }],
    ['', {}],
  ])('should send tool call arguments %p as the object %p (Anthropic takes objects only)', (text, expected) => {
    const { body } = translate({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: text } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
    });
    expect(body.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'f', input: expected }]);
  });
});
