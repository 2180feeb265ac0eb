import { ErrorCode } from '@openai-proxy/util-errors';
import { chunkItem, cutStreamItem, usageItem } from './stream-item.types';

const identity = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'm' };

describe('chunkItem', () => {
  it('should be one chat.completion.chunk with one choice and no usage field', () => {
    expect(chunkItem(identity, { content: 'Hi' })).toEqual({
      kind: 'chunk',
      chunk: {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model: 'm',
        choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null }],
      },
    });
  });

  it('should carry the finish reason and the choice index when given', () => {
    const item = chunkItem(identity, {}, 'tool_calls', 2);
    expect(item.kind === 'chunk' && item.chunk.choices).toEqual([
      { index: 2, delta: {}, logprobs: null, finish_reason: 'tool_calls' },
    ]);
  });
});

describe('usageItem', () => {
  it('should be a chunk with no choices and the usage', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    expect(usageItem(identity, usage)).toEqual({
      kind: 'chunk',
      chunk: expect.objectContaining({ id: 'chatcmpl-1', choices: [], usage }),
    });
  });
});

describe('cutStreamItem', () => {
  it('should be an upstream_connection_reset error naming the provider and its end marker', () => {
    const item = cutStreamItem('Gemini', 'its finishReason');
    expect(item).toEqual({
      kind: 'error',
      error: expect.objectContaining({ code: ErrorCode.UpstreamConnectionReset }),
    });
    expect(item.kind === 'error' && item.error.message).toBe('Gemini stream ended before its finishReason');
  });
});
