import type { ProviderUsage } from '@openai-proxy/util-openai-schema';
import { anthropicUsage, geminiUsage, isRecord, openAiUsage } from './usage-counts';

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

/**
 * The usage a whole (not streamed) answer reports, read from its JSON body: OpenAI's `usage` (chat completions,
 * embeddings, the Responses API), Anthropic's `usage`, Gemini's `usageMetadata`. Undefined for a body of any other
 * shape; never throws.
 */
export function usageFromJson(dialect: WireDialect, body: unknown): ProviderUsage | undefined {
  if (!isRecord(body)) {
    return undefined;
  }
  switch (dialect) {
    case 'openai':
      return openAiUsage(body['usage']);
    case 'anthropic':
      return anthropicUsage(body['usage']);
    case 'gemini':
      return geminiUsage(body['usageMetadata']);
  }
}

/**
 * Whether an OpenAI stream event's data, as parsed, is the usage-only chunk (`choices: []` and a `usage`) that a
 * stream sends last when asked with `stream_options.include_usage`; the gateway asks for it and hides it from a
 * client that did not.
 */
export function isUsageOnlyChunk(data: unknown): boolean {
  if (!isRecord(data)) {
    return false;
  }
  const choices = data['choices'];
  return Array.isArray(choices) && choices.length === 0 && isRecord(data['usage']);
}

/**
 * Whether a stream event's data, as parsed, reports an error: OpenAI's (and Gemini's) `{"error": {…}}`,
 * Anthropic's and the Responses API's `type: "error"`. The answer failed even when the stream then ends cleanly
 * (our services end a broken stream with an error frame and `[DONE]`, and providers send one for a mid-stream
 * error).
 */
export function isErrorEventData(data: unknown): boolean {
  return isRecord(data) && (isRecord(data['error']) || data['type'] === 'error');
}
