import { z } from 'zod';
import type { ProviderUsage } from '@openai-proxy/util-openai-schema';

/*
 * How each provider reports a request's tokens, read into one shape. Shared by the whole-answer and the stream
 * readers (usage-meter.ts, stream-usage-meter.ts); not exported from the lib.
 */

const count = z.number().int().nonnegative();
/** A count that may be missing or null; a malformed one counts as missing (it only details a total we have). */
const detailCount = count.nullish().catch(undefined);
const cachedDetails = z.looseObject({ cached_tokens: detailCount }).nullish().catch(undefined);
const reasoningDetails = z.looseObject({ reasoning_tokens: detailCount }).nullish().catch(undefined);

/** Chat completions (`completion_tokens` absent for embeddings, which have only `prompt_tokens`). */
const openAiChatUsage = z.looseObject({
  prompt_tokens: count,
  completion_tokens: count.nullish(),
  prompt_tokens_details: cachedDetails,
  completion_tokens_details: reasoningDetails,
});

/** The Responses API. */
const openAiResponsesUsage = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  input_tokens_details: cachedDetails,
  output_tokens_details: reasoningDetails,
});

/** Anthropic's usage; every part is optional here, since a stream's events each carry some of it. */
export const anthropicUsageSchema = z.looseObject({
  input_tokens: count.nullish(),
  output_tokens: count.nullish(),
  cache_creation_input_tokens: detailCount,
  cache_read_input_tokens: detailCount,
});

/** Gemini's `usageMetadata`; Gemini leaves out a count that is zero. */
export const geminiUsageSchema = z.looseObject({
  promptTokenCount: count.nullish(),
  candidatesTokenCount: detailCount,
  thoughtsTokenCount: detailCount,
  cachedContentTokenCount: detailCount,
});

/** The same usage with its optional parts set only when the provider gave them. */
function providerUsage(
  promptTokens: number,
  completionTokens: number,
  cached: number | null | undefined,
  reasoning: number | null | undefined,
): ProviderUsage {
  return {
    promptTokens,
    completionTokens,
    ...(typeof cached === 'number' ? { cachedPromptTokens: cached } : {}),
    ...(typeof reasoning === 'number' ? { reasoningTokens: reasoning } : {}),
  };
}

/** An OpenAI `usage` object (chat completions, embeddings or the Responses API), or undefined. */
export function openAiUsage(usage: unknown): ProviderUsage | undefined {
  const chat = openAiChatUsage.safeParse(usage);
  if (chat.success) {
    const { data } = chat;
    return providerUsage(
      data.prompt_tokens,
      data.completion_tokens ?? 0,
      data.prompt_tokens_details?.cached_tokens,
      data.completion_tokens_details?.reasoning_tokens,
    );
  }
  const responses = openAiResponsesUsage.safeParse(usage);
  if (!responses.success) {
    return undefined;
  }
  const { data } = responses;
  return providerUsage(
    data.input_tokens,
    data.output_tokens,
    data.input_tokens_details?.cached_tokens,
    data.output_tokens_details?.reasoning_tokens,
  );
}

/** The parts of Anthropic's usage that make up the prompt. */
export interface AnthropicPromptCounts {
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Anthropic's prompt: fresh input, cache writes and cache reads are all prompt tokens; reads are the cached part. */
export function anthropicPromptTokens(usage: AnthropicPromptCounts): number | undefined {
  if (typeof usage.input_tokens !== 'number') {
    return undefined;
  }
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

/** An Anthropic `usage` object of a whole answer (both counts present), or undefined. */
export function anthropicUsage(usage: unknown): ProviderUsage | undefined {
  const parsed = anthropicUsageSchema.safeParse(usage);
  if (!parsed.success || typeof parsed.data.output_tokens !== 'number') {
    return undefined;
  }
  const prompt = anthropicPromptTokens(parsed.data);
  return prompt === undefined
    ? undefined
    : providerUsage(prompt, parsed.data.output_tokens, parsed.data.cache_read_input_tokens, undefined);
}

/** Gemini's completion: the answer's tokens and the thinking tokens (billed as output). */
export function geminiCompletionTokens(usage: z.infer<typeof geminiUsageSchema>): number | undefined {
  const { candidatesTokenCount: answer, thoughtsTokenCount: thoughts } = usage;
  return typeof answer !== 'number' && typeof thoughts !== 'number' ? undefined : (answer ?? 0) + (thoughts ?? 0);
}

/** A Gemini `usageMetadata` object of a whole answer (a prompt count present), or undefined. */
export function geminiUsage(usage: unknown): ProviderUsage | undefined {
  const parsed = geminiUsageSchema.safeParse(usage);
  const prompt = parsed.data?.promptTokenCount;
  if (!parsed.success || typeof prompt !== 'number') {
    return undefined;
  }
  const { data } = parsed;
  return providerUsage(
    prompt,
    geminiCompletionTokens(data) ?? 0,
    data.cachedContentTokenCount,
    data.thoughtsTokenCount,
  );
}
