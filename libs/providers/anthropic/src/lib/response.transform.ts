import type { ChatCompletion, ChatToolCall, ChatUsage, ProviderUsage } from '@openai-proxy/util-openai-schema';
import type { AnthropicMessagesResponse, AnthropicUsage } from './anthropic.types';
import { toFinishReason } from './finish-reason.map';

/**
 * The cache parts of a prompt as OpenAI-style details: the reads as `cached_tokens` (a meter bills them at the
 * cached price), the writes as `cache_write_tokens` (OpenRouter's name; a meter bills them at the cache-write
 * price). Undefined when Anthropic gave neither.
 */
function promptDetails(usage: AnthropicUsage): ChatUsage['prompt_tokens_details'] {
  const read = usage.cache_read_input_tokens;
  const written = usage.cache_creation_input_tokens;
  if (typeof read !== 'number' && typeof written !== 'number') {
    return undefined;
  }
  const written1h = hourCacheWrites(usage);
  return {
    ...(typeof read === 'number' ? { cached_tokens: read } : {}),
    ...(typeof written === 'number' ? { cache_write_tokens: written } : {}),
    ...(typeof written === 'number' && written1h !== undefined ? { cache_write_1h_tokens: written1h } : {}),
  };
}

/** The part of the cache writes with the 1-hour lifetime, when Anthropic says (never more than the writes). */
function hourCacheWrites(usage: AnthropicUsage): number | undefined {
  const written = usage.cache_creation_input_tokens;
  const hour = usage.cache_creation?.ephemeral_1h_input_tokens;
  return typeof hour === 'number' && typeof written === 'number' ? Math.min(Math.max(0, hour), written) : undefined;
}

/**
 * prompt = input + cache creation + cache read tokens; completion = output tokens; the cache reads and writes,
 * when Anthropic gives them, in `prompt_tokens_details` (promptDetails).
 */
export function toChatUsage(usage: AnthropicUsage): ChatUsage {
  const prompt =
    (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  const details = promptDetails(usage);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(details === undefined ? {} : { prompt_tokens_details: details }),
  };
}

/**
 * The usage a ledger reads: the same prompt and completion counts, and the prompt tokens read from and written to
 * the cache.
 */
export function toProviderUsage(usage: AnthropicUsage): ProviderUsage {
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = toChatUsage(usage);
  const read = usage.cache_read_input_tokens;
  const written = usage.cache_creation_input_tokens;
  const written1h = hourCacheWrites(usage);
  return {
    promptTokens,
    completionTokens,
    ...(typeof read === 'number' ? { cachedPromptTokens: read } : {}),
    ...(typeof written === 'number' ? { cacheWritePromptTokens: written } : {}),
    ...(written1h === undefined ? {} : { cacheWrite1hPromptTokens: written1h }),
  };
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
