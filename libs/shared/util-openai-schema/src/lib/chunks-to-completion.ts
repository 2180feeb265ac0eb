import type { ChatCompletion, ChatCompletionChunk, FinishReason } from './chat-completion.types';

/** A whole chat.completion from the chunks of a stream (text only; usage zero unless a usage chunk came). */
export function chunksToCompletion(
  chunks: readonly ChatCompletionChunk[],
  fallback: { id: string; model: string; created: number },
): ChatCompletion {
  const first = chunks[0];
  let content = '';
  let finish: FinishReason = 'stop';
  let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const chunk of chunks) {
    const choice = chunk.choices[0];
    content += choice?.delta.content ?? '';
    finish = choice?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return {
    id: first?.id ?? fallback.id,
    object: 'chat.completion',
    created: first?.created ?? fallback.created,
    model: first?.model ?? fallback.model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish },
    ],
    usage,
  };
}
