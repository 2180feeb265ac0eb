import { z } from 'zod';
import { parseJsonText } from '@openai-proxy/util-errors';
import type { ProviderUsage } from '@openai-proxy/util-openai-schema';
import { anthropicUsage, geminiUsage, openAiUsage } from './usage-counts';

/** The wire format an answer is in: OpenAI's (and every OpenAI-compatible provider's), Anthropic's or Gemini's. */
export type WireDialect = 'openai' | 'anthropic' | 'gemini';

/**
 * What a provider has reported of a request's tokens, each count only once it said so: a stream cut short may
 * have told the prompt's count but not yet the completion's.
 */
export interface ReportedUsage {
  promptTokens?: number;
  completionTokens?: number;
  cachedPromptTokens?: number;
  reasoningTokens?: number;
}

const usageHolder = z.looseObject({ usage: z.unknown() });
const usageMetadataHolder = z.looseObject({ usageMetadata: z.unknown() });

/**
 * The usage a whole (not streamed) answer reports, read from its JSON body: OpenAI's `usage` (chat completions,
 * embeddings, the Responses API), Anthropic's `usage`, Gemini's `usageMetadata`. Undefined for a body of any other
 * shape; never throws.
 */
export function usageFromJson(dialect: WireDialect, body: unknown): ProviderUsage | undefined {
  if (dialect === 'gemini') {
    const holder = usageMetadataHolder.safeParse(body);
    return holder.success ? geminiUsage(holder.data.usageMetadata) : undefined;
  }
  const holder = usageHolder.safeParse(body);
  if (!holder.success) {
    return undefined;
  }
  return dialect === 'openai' ? openAiUsage(holder.data.usage) : anthropicUsage(holder.data.usage);
}

const usageOnlyChunk = z.looseObject({ choices: z.array(z.unknown()).length(0), usage: z.looseObject({}) });

/**
 * Whether an OpenAI stream event's data is the usage-only chunk (`choices: []` and a `usage`) that a stream sends
 * last when asked with `stream_options.include_usage`; the gateway asks for it and hides it from a client that
 * did not.
 */
export function isUsageOnlyChunk(data: string): boolean {
  return usageOnlyChunk.safeParse(parseJsonText(data)).success;
}
