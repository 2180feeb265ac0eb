import type { ChatCompletionChunk } from './chat-completion.types';
import { chunksToCompletion } from './chunks-to-completion';

const fallback = { id: 'chatcmpl-fallback', model: 'fallback-model', created: 1 };

function chunk(
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
  extra: Partial<ChatCompletionChunk> = {},
): ChatCompletionChunk {
  return {
    id: 'chatcmpl-stream',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'stream-model',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  };
}

describe('chunksToCompletion', () => {
  it('should join the text of every chunk and take the identity of the first', () => {
    const completion = chunksToCompletion(
      [
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
      ],
      fallback,
    );
    expect(completion).toEqual({
      id: 'chatcmpl-stream',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'stream-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  });

  it('should keep the last finish reason when a later chunk has none', () => {
    const completion = chunksToCompletion([chunk({ content: 'x' }, 'length'), chunk({})], fallback);
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('should take the usage of a usage chunk with no choices', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
    const completion = chunksToCompletion(
      [chunk({ content: 'ok' }, 'stop'), { ...chunk({}), choices: [], usage }],
      fallback,
    );
    expect(completion.usage).toEqual(usage);
    expect(completion.choices[0]?.message.content).toBe('ok');
  });

  it('should answer an empty stop completion with the fallback identity when there are no chunks', () => {
    const completion = chunksToCompletion([], fallback);
    expect(completion).toMatchObject({ id: fallback.id, model: fallback.model, created: fallback.created });
    expect(completion.choices[0]).toMatchObject({ message: { content: '' }, finish_reason: 'stop' });
  });
});
