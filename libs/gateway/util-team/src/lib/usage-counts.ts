import { z } from 'zod';
import type { ProviderUsage } from '@openai-proxy/util-openai-schema';

/*
 * How each provider reports a request's tokens, read into one shape. Shared by the whole-answer and the stream
 * readers (usage-meter.ts, stream-usage-meter.ts); not exported from the lib.
 *
 * The readers every answer passes through check types by hand (`typeof`) rather than with a zod parse, which
 * costs a copy of what it reads: they answer exactly what the zod schemas of the same shapes would (the specs
 * check it on any JSON), a wrong type giving "no usage", never a throw.
 */

/** Whether a value is an object that is neither null nor an array: what a zod object takes. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value is a token count: a whole, safe, non-negative number (zod's `number().int().nonnegative()`). */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A count that details a total we have: undefined when missing, null or malformed. */
function detailOf(value: unknown): number | undefined {
  return isCount(value) ? value : undefined;
}

/** A detail count inside a details object (`prompt_tokens_details.cached_tokens`); undefined if either is malformed. */
function detailIn(details: unknown, name: string): number | undefined {
  return isRecord(details) ? detailOf(details[name]) : undefined;
}

const count = z.number().int().nonnegative();
/** A count that may be missing or null; a malformed one counts as missing (it only details a total we have). */
const detailCount = count.nullish().catch(undefined);

/**
 * Anthropic's usage; every part is optional here, since a stream's events each carry some of it. `cache_creation`
 * splits the cache writes by lifetime (only the 1-hour part is read: it is billed above the rest).
 */
export const anthropicUsageSchema = z.looseObject({
  input_tokens: count.nullish(),
  output_tokens: count.nullish(),
  cache_creation_input_tokens: detailCount,
  cache_read_input_tokens: detailCount,
  cache_creation: z.looseObject({ ephemeral_1h_input_tokens: detailCount }).nullish().catch(undefined),
});

/** The 1-hour part of Anthropic's cache writes (`cache_creation.ephemeral_1h_input_tokens`); undefined when not given. */
export function anthropicCacheWrite1h(usage: Readonly<Record<string, unknown>>): number | undefined {
  return detailIn(usage['cache_creation'], 'ephemeral_1h_input_tokens');
}

/** Gemini's `usageMetadata`; Gemini leaves out a count that is zero. */
export const geminiUsageSchema = z.looseObject({
  promptTokenCount: count.nullish(),
  candidatesTokenCount: detailCount,
  thoughtsTokenCount: detailCount,
  cachedContentTokenCount: detailCount,
});

/** The parts of a prompt that went through the provider's cache: read from it, written to it (of which 1-hour). */
interface CacheParts {
  read: number | undefined;
  written: number | undefined;
  written1h?: number | undefined;
}

/** The same usage with its optional parts set only when the provider gave them. */
function providerUsage(
  promptTokens: number,
  completionTokens: number,
  cache: CacheParts,
  reasoning: number | null | undefined,
): ProviderUsage {
  const usage: ProviderUsage = { promptTokens, completionTokens };
  if (typeof cache.read === 'number') {
    usage.cachedPromptTokens = cache.read;
  }
  if (typeof cache.written === 'number') {
    usage.cacheWritePromptTokens = cache.written;
  }
  if (typeof cache.written1h === 'number') {
    usage.cacheWrite1hPromptTokens = cache.written1h;
  }
  if (typeof reasoning === 'number') {
    usage.reasoningTokens = reasoning;
  }
  return usage;
}

/**
 * An OpenAI `usage` object, or undefined: chat completions' `prompt_tokens` and `completion_tokens` (null or
 * absent for embeddings, which count as 0), else the Responses API's `input_tokens` and `output_tokens`; each
 * with its cached and reasoning details where they are well formed, and the cache writes where a chat's usage
 * gives them as `prompt_tokens_details.cache_write_tokens` (OpenRouter's name, which our claude-bridge uses too),
 * with their 1-hour part as `cache_write_1h_tokens` (our claude-bridge's).
 */
export function openAiUsage(usage: unknown): ProviderUsage | undefined {
  if (!isRecord(usage)) {
    return undefined;
  }
  const prompt = usage['prompt_tokens'];
  const completion = usage['completion_tokens'];
  if (isCount(prompt) && (completion === undefined || completion === null || isCount(completion))) {
    const details = usage['prompt_tokens_details'];
    return providerUsage(
      prompt,
      completion ?? 0,
      {
        read: detailIn(details, 'cached_tokens'),
        written: detailIn(details, 'cache_write_tokens'),
        written1h: detailIn(details, 'cache_write_1h_tokens'),
      },
      detailIn(usage['completion_tokens_details'], 'reasoning_tokens'),
    );
  }
  const input = usage['input_tokens'];
  const output = usage['output_tokens'];
  if (!isCount(input) || !isCount(output)) {
    return undefined;
  }
  return providerUsage(
    input,
    output,
    { read: detailIn(usage['input_tokens_details'], 'cached_tokens'), written: undefined },
    detailIn(usage['output_tokens_details'], 'reasoning_tokens'),
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
  if (!isRecord(usage)) {
    return undefined;
  }
  const input = usage['input_tokens'];
  const output = usage['output_tokens'];
  if (!isCount(input) || !isCount(output)) {
    return undefined;
  }
  const cacheRead = detailOf(usage['cache_read_input_tokens']);
  const cacheWrite = detailOf(usage['cache_creation_input_tokens']);
  const prompt = anthropicPromptTokens({
    input_tokens: input,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  });
  return prompt === undefined
    ? undefined
    : providerUsage(
        prompt,
        output,
        { read: cacheRead, written: cacheWrite, written1h: anthropicCacheWrite1h(usage) },
        undefined,
      );
}

/** The parts of Gemini's usage that make up the completion. */
export interface GeminiCompletionCounts {
  candidatesTokenCount?: number | null;
  thoughtsTokenCount?: number | null;
}

/** Gemini's completion: the answer's tokens and the thinking tokens (billed as output). */
export function geminiCompletionTokens(usage: GeminiCompletionCounts): number | undefined {
  const { candidatesTokenCount: answer, thoughtsTokenCount: thoughts } = usage;
  return typeof answer !== 'number' && typeof thoughts !== 'number' ? undefined : (answer ?? 0) + (thoughts ?? 0);
}

/** A Gemini `usageMetadata` object of a whole answer (a prompt count present), or undefined. */
export function geminiUsage(usage: unknown): ProviderUsage | undefined {
  if (!isRecord(usage)) {
    return undefined;
  }
  const prompt = usage['promptTokenCount'];
  if (!isCount(prompt)) {
    return undefined;
  }
  const thoughts = detailOf(usage['thoughtsTokenCount']);
  const answer = detailOf(usage['candidatesTokenCount']);
  const completion = geminiCompletionTokens({ candidatesTokenCount: answer, thoughtsTokenCount: thoughts });
  return providerUsage(
    prompt,
    completion ?? 0,
    { read: detailOf(usage['cachedContentTokenCount']), written: undefined },
    thoughts,
  );
}
