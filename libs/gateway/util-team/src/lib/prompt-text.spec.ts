import fc from 'fast-check';
import { promptParts, promptText } from './prompt-text';
import type { WireDialect } from './usage-meter';

describe('promptText', () => {
  it('should read OpenAI messages: string content and text parts, not images', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [] },
      ],
    };
    expect(promptText('openai', body)).toBe('Be brief.\nWhat is this?');
    expect(promptParts('openai', body).messages).toBe(3);
  });

  it('should read embeddings input: a text, texts, and token arrays by their length', () => {
    expect(promptParts('openai', { input: 'one' })).toEqual({ texts: ['one'], tokenIds: 0, messages: 0 });
    expect(promptParts('openai', { input: ['a', 'b'] })).toEqual({ texts: ['a', 'b'], tokenIds: 0, messages: 0 });
    expect(promptParts('openai', { input: [1, 2, 3] })).toEqual({ texts: [], tokenIds: 3, messages: 0 });
    expect(promptParts('openai', { input: [[1, 2], [3]] })).toEqual({ texts: [], tokenIds: 3, messages: 0 });
  });

  it('should read the Responses API: instructions and input items', () => {
    const body = {
      instructions: 'You are Codex.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'fix it' }] }],
    };
    expect(promptText('openai', body)).toBe('You are Codex.\nfix it');
    expect(promptParts('openai', body).messages).toBe(1);
  });

  it("should read Anthropic's system and messages, tool results included", () => {
    const body = {
      system: [{ type: 'text', text: 'Sys' }],
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'ok' }] }] },
      ],
    };
    expect(promptText('anthropic', body)).toBe('Sys\nHi\nok');
    expect(promptText('anthropic', { system: 'plain', messages: [] })).toBe('plain');
  });

  it("should read Gemini's contents and system instruction, in either spelling", () => {
    const contents = [{ role: 'user', parts: [{ text: 'Q' }, { inlineData: { mimeType: 'x', data: '' } }] }];
    expect(promptText('gemini', { systemInstruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptText('gemini', { system_instruction: { parts: [{ text: 'S' }] }, contents })).toBe('S\nQ');
    expect(promptParts('gemini', { contents }).messages).toBe(1);
  });

  it('should find nothing in bodies of another shape, and never throw', () => {
    const dialect = fc.constantFrom<WireDialect>('openai', 'anthropic', 'gemini');
    expect(promptParts('openai', 'text')).toEqual({ texts: [], tokenIds: 0, messages: 0 });
    fc.assert(
      fc.property(dialect, fc.jsonValue(), fc.jsonValue(), (wire, value, inner) => {
        for (const body of [value, { messages: value, input: inner }, { contents: value, system: inner }]) {
          const parts = promptParts(wire, body);
          expect(parts.texts.every((text) => typeof text === 'string')).toBe(true);
          expect(parts.tokenIds).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});
