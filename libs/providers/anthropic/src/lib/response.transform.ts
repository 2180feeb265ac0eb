import type { ChatCompletion, ChatToolCall, ChatUsage, ProviderUsage } from '@openai-proxy/util-openai-schema';
import type { AnthropicMessagesResponse, AnthropicUsage } from './anthropic.types';
import { toFinishReason } from './finish-reason.map';

/**
 * prompt = input + cache creation + cache read tokens; completion = output tokens; the cache reads, when Anthropic
 * gives them, as OpenAI's `prompt_tokens_details.cached_tokens` (a meter then bills them at the cached price).
 */
export function toChatUsage(usage: AnthropicUsage): ChatUsage {
  const prompt =
    (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  const cached = usage.cache_read_input_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(typeof cached === 'number' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

/** The usage a ledger reads: the same prompt and completion counts, and the prompt tokens read from the cache. */
export function toProviderUsage(usage: AnthropicUsage): ProviderUsage {
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = toChatUsage(usage);
  const cached = usage.cache_read_input_tokens;
  return { promptTokens, completionTokens, ...(typeof cached === 'number' ? { cachedPromptTokens: cached } : {}) };
}

/** Anthropic message → OpenAI chat.completion (docs/provider-mapping.md). */
export function toChatCompletion(message: AnthropicMessagesResponse, createdSeconds: number): ChatCompletion {
  const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
  const toolCalls: ChatToolCall[] = message.content.flatMap((block) =>
    block.type === 'tool_use'
      ? [
          {
            id: block.id,
            type: 'function' as const,
            function: { name: block.name, arguments: JSON.stringify(block.input) },
          },
        ]
      : [],
  );
  return {
    id: `chatcmpl-${message.id}`,
    object: 'chat.completion',
    created: createdSeconds,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: toFinishReason(message.stop_reason),
      },
    ],
    usage: toChatUsage(message.usage),
  };
}
