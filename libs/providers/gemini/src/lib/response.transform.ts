import type { ChatCompletion, ChatToolCall, ChatUsage, ProviderUsage } from '@openai-proxy/util-openai-schema';
import type { GeminiResponse, GeminiUsage } from './gemini.types';
import { toFinishReason } from './finish-reason.map';
import { withThoughtSignature } from './thought-signature.transform';

/**
 * prompt = the prompt's tokens (cached content included); completion = candidates + thinking tokens; the cached
 * content and the thinking, when Gemini gives them, as OpenAI's `prompt_tokens_details.cached_tokens` and
 * `completion_tokens_details.reasoning_tokens`.
 */
export function toChatUsage(usage: GeminiUsage | undefined): ChatUsage {
  const prompt = usage?.promptTokenCount ?? 0;
  const completion = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0);
  const cached = usage?.cachedContentTokenCount;
  const thoughts = usage?.thoughtsTokenCount;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage?.totalTokenCount ?? prompt + completion,
    ...(typeof cached === 'number' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    ...(typeof thoughts === 'number' ? { completion_tokens_details: { reasoning_tokens: thoughts } } : {}),
  };
}

/** The usage a ledger reads: thinking tokens are output tokens, cached content is part of the prompt. */
export function toProviderUsage(usage: GeminiUsage): ProviderUsage {
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = toChatUsage(usage);
  return {
    promptTokens,
    completionTokens,
    ...(usage.cachedContentTokenCount === undefined ? {} : { cachedPromptTokens: usage.cachedContentTokenCount }),
    ...(usage.thoughtsTokenCount === undefined ? {} : { reasoningTokens: usage.thoughtsTokenCount }),
  };
}

/** Ids for Gemini's function calls, which have none: `call_<response>_<n>`, unique within the answer. */
export function callId(responseId: string, index: number): string {
  return `call_${responseId}_${index}`;
}

/** Gemini generateContent response → OpenAI chat.completion (one choice per candidate). */
export function toChatCompletion(
  response: GeminiResponse,
  requestedModel: string,
  createdSeconds: number,
  fallbackId: string,
): ChatCompletion {
  const responseId = response.responseId ?? fallbackId;
  const candidates = response.candidates ?? [];
  const choices = candidates.map((candidate, position) => {
    const choiceIndex = candidate.index ?? position;
    // With several candidates (n > 1) each call id names its candidate too, so ids stay unique in the answer.
    const callPrefix = candidates.length > 1 ? `${responseId}_${choiceIndex}` : responseId;
    const parts = (candidate.content?.parts ?? []).filter((part) => part.thought !== true);
    const text = parts.flatMap((part) => (typeof part.text === 'string' ? [part.text] : [])).join('');
    const toolCalls: ChatToolCall[] = parts.flatMap((part, index) =>
      part.functionCall === undefined
        ? []
        : [
            {
              id: withThoughtSignature(callId(callPrefix, index), part.thoughtSignature),
              type: 'function' as const,
              function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
            },
          ],
    );
    return {
      index: choiceIndex,
      message: {
        role: 'assistant' as const,
        content: text === '' && toolCalls.length > 0 ? null : text,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      logprobs: null,
      finish_reason: toFinishReason(candidate.finishReason, toolCalls.length > 0),
    };
  });
  if (choices.length === 0) {
    // A blocked prompt has no candidates, only promptFeedback.blockReason.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: '', refusal: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  }
  return {
    id: `chatcmpl-${responseId}`,
    object: 'chat.completion',
    created: createdSeconds,
    model: response.modelVersion ?? requestedModel,
    choices,
    usage: toChatUsage(response.usageMetadata),
  };
}
