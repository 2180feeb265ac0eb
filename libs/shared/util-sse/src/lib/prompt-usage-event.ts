import { z } from 'zod';
import type { PromptUsage, ProviderUsage } from '@openai-proxy/util-openai-schema';
import { encodeSseEvent } from './sse-encoder';

/**
 * The request header by which a caller that meters streams (the team gateway) asks a translating service for the
 * prompt's counts as soon as the provider reports them. Internal (`x-openai-proxy-`): no client can set it through
 * the gateway, and no provider receives it.
 */
export const PROMPT_USAGE_HEADER = 'x-openai-proxy-prompt-usage';

/**
 * The event that carries them, once per stream, among the OpenAI chunks. Its caller keeps it from its own client:
 * an SDK would read it as a chunk.
 */
export const PROMPT_USAGE_EVENT = 'openai-proxy.prompt-usage';

const count = z.number().int().nonnegative().safe();

/** The event's data: OpenAI's names for the prompt's part of a chat usage. */
const promptUsageDataSchema = z.object({
  prompt_tokens: count,
  prompt_tokens_details: z
    .object({
      cached_tokens: count.optional(),
      cache_write_tokens: count.optional(),
      cache_write_1h_tokens: count.optional(),
    })
    .optional(),
});

type PromptUsageData = z.infer<typeof promptUsageDataSchema>;

/** The prompt's part of `usage`, the parts it does not give left out. */
export function promptPartOf(usage: ProviderUsage): PromptUsage {
  const prompt: PromptUsage = { promptTokens: usage.promptTokens };
  if (usage.cachedPromptTokens !== undefined) {
    prompt.cachedPromptTokens = usage.cachedPromptTokens;
  }
  if (usage.cacheWritePromptTokens !== undefined) {
    prompt.cacheWritePromptTokens = usage.cacheWritePromptTokens;
  }
  if (usage.cacheWrite1hPromptTokens !== undefined) {
    prompt.cacheWrite1hPromptTokens = usage.cacheWrite1hPromptTokens;
  }
  return prompt;
}

/** The event's frame for `usage`. */
export function encodePromptUsageEvent(usage: PromptUsage): string {
  const details: NonNullable<PromptUsageData['prompt_tokens_details']> = {};
  if (usage.cachedPromptTokens !== undefined) {
    details.cached_tokens = usage.cachedPromptTokens;
  }
  if (usage.cacheWritePromptTokens !== undefined) {
    details.cache_write_tokens = usage.cacheWritePromptTokens;
  }
  if (usage.cacheWrite1hPromptTokens !== undefined) {
    details.cache_write_1h_tokens = usage.cacheWrite1hPromptTokens;
  }
  const data: PromptUsageData = { prompt_tokens: usage.promptTokens };
  if (Object.keys(details).length > 0) {
    data.prompt_tokens_details = details;
  }
  return encodeSseEvent(PROMPT_USAGE_EVENT, data);
}

/** The counts an event's data (as parsed) carries; undefined for data of any other shape. Never throws. */
export function decodePromptUsageEvent(data: unknown): PromptUsage | undefined {
  const parsed = promptUsageDataSchema.safeParse(data);
  if (!parsed.success) {
    return undefined;
  }
  const details = parsed.data.prompt_tokens_details;
  return promptPartOf({
    promptTokens: parsed.data.prompt_tokens,
    completionTokens: 0,
    cachedPromptTokens: details?.cached_tokens,
    cacheWritePromptTokens: details?.cache_write_tokens,
    cacheWrite1hPromptTokens: details?.cache_write_1h_tokens,
  });
}
