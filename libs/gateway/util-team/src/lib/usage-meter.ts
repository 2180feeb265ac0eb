import type { ProviderUsage } from '@openai-proxy/util-openai-schema';
import { parseJsonText } from '@openai-proxy/util-errors';
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
  cacheWritePromptTokens?: number;
  cacheWrite1hPromptTokens?: number;
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

/** The member of a whole answer's top-level object that holds its usage, as a JSON string token. */
const USAGE_MEMBER_TOKEN: Record<WireDialect, string> = {
  openai: '"usage"',
  anthropic: '"usage"',
  gemini: '"usageMetadata"',
};

const BACKSLASH = 0x5c;

/**
 * The usage a whole answer's JSON text reports: what `usageFromJson` reads from the parsed text, mostly without
 * parsing all of it. Answers put their usage at or near the end: only `{` and the text from the last usage
 * member's name on is parsed, which is valid JSON only when that member is in the top-level object (after a
 * deeper one, more brackets close than that text opened; a name inside a string has a backslash before its
 * quote). Any other text is parsed whole. Never throws.
 */
export function usageFromJsonText(dialect: WireDialect, text: string): ProviderUsage | undefined {
  const at = text.lastIndexOf(USAGE_MEMBER_TOKEN[dialect]);
  if (at > 0 && text.charCodeAt(at - 1) !== BACKSLASH) {
    const usage = usageFromJson(dialect, parseJsonText(`{${text.slice(at)}`));
    if (usage !== undefined) {
      return usage;
    }
  }
  return usageFromJson(dialect, parseJsonText(text));
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
