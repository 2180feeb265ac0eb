import { SSE_DONE_FRAME, encodeSseData, encodeSseEvent } from '@openai-proxy/util-sse';

/** Fixed ids and timestamp, so frames are reproducible. */
const CHAT_ID = 'chatcmpl-fault01';
const MESSAGE_ID = 'msg_fault01';
const CREATED = 1_700_000_000;

function chatChunk(model: string, delta: Record<string, unknown>, finishReason: string | null): string {
  return encodeSseData({
    id: CHAT_ID,
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
}

/** A whole OpenAI chat stream: a role chunk, one chunk per word, a `stop` chunk, then `data: [DONE]`. */
export function openAiChatFrames(words: readonly string[], model = 'gpt-4o-mini'): string[] {
  return [
    chatChunk(model, { role: 'assistant', content: '' }, null),
    ...words.map((word) => chatChunk(model, { content: word }, null)),
    chatChunk(model, {}, 'stop'),
    SSE_DONE_FRAME,
  ];
}

/** The error frame OpenAI sends inside a stream that failed after it started. */
export function openAiStreamError(message: string, type = 'server_error'): string {
  return encodeSseData({ error: { message, type, param: null, code: null } });
}

/** A whole Anthropic Messages stream: `message_start`, a text block with one delta per word, `message_stop`. */
export function anthropicFrames(words: readonly string[], model = 'claude-sonnet-4-6'): string[] {
  const usage = { input_tokens: 5, output_tokens: 1 };
  return [
    encodeSseEvent('message_start', {
      type: 'message_start',
      message: { id: MESSAGE_ID, type: 'message', role: 'assistant', model, content: [], usage },
    }),
    encodeSseEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    ...words.map((text) =>
      encodeSseEvent('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      }),
    ),
    encodeSseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    encodeSseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: words.length },
    }),
    encodeSseEvent('message_stop', { type: 'message_stop' }),
  ];
}

/** The `error` event Anthropic sends inside a stream that failed after it started (e.g. `overloaded_error`). */
export function anthropicStreamError(type: string, message: string): string {
  return encodeSseEvent('error', { type: 'error', error: { type, message } });
}

/** The first `count` frames of a stream, then a provider error frame in place of the rest. */
export function errorAfter(frames: readonly string[], count: number, errorFrame: string): string[] {
  return [...frames.slice(0, count), errorFrame];
}
