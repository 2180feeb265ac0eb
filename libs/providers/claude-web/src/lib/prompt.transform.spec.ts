import type { ChatMessage } from '@openai-proxy/util-openai-schema';
import { buildClaudeWebPrompt, chooseClaudeWebModel } from './prompt.transform';

describe('buildClaudeWebPrompt', () => {
  it('should build the original template for its own example', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Output JSON' },
      { role: 'user', content: 'Date?' },
      { role: 'assistant', content: 'May 30.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(buildClaudeWebPrompt(messages)).toBe(
      'Tips: Date?\nMay 30.\n \nPlease refer to the prompts above for your answer (Return the results of the question):\nHi(Output JSON)',
    );
  });

  it('should keep every earlier turn in order and the last system message', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'first system' },
      { role: 'user', content: 'a' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'b1' },
          { type: 'text', text: 'b2' },
        ],
      },
      { role: 'system', content: 'last system' },
      { role: 'user', content: 'c' },
      { role: 'user', content: 'question' },
    ];
    expect(buildClaudeWebPrompt(messages)).toBe(
      'Tips: a\nb1\nb2\nc\n \nPlease refer to the prompts above for your answer (Return the results of the question):\nquestion(last system)',
    );
  });

  it('should send a lone user message as it is', () => {
    expect(buildClaudeWebPrompt([{ role: 'user', content: 'hello' }])).toBe('hello');
  });

  it('should refuse an empty list, a last message that is not the user, and non-text parts', () => {
    expect(() => buildClaudeWebPrompt([])).toThrow('messages is missing');
    expect(() => buildClaudeWebPrompt([{ role: 'assistant', content: 'x' }])).toThrow('user information');
    expect(() =>
      buildClaudeWebPrompt([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }]),
    ).toThrow(expect.objectContaining({ param: 'messages[0].content[0].type' }));
  });
});

describe('chooseClaudeWebModel', () => {
  it('should keep Claude models and replace others with the configured one', () => {
    expect(chooseClaudeWebModel('claude-3-opus', 'claude-2.1')).toBe('claude-3-opus');
    expect(chooseClaudeWebModel('gpt-3.5-turbo', 'claude-2.1')).toBe('claude-2.1');
  });
});
