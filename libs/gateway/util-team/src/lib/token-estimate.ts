import type * as GptTokenizer from 'gpt-tokenizer';
import type { MeteredUsage } from './team.types';
import { promptParts } from './prompt-text';
import { isRecord } from './usage-counts';
import type { ReportedUsage, WireDialect } from './usage-meter';

/** What a reservation counts for the completion of a request that names no maximum. */
export const DEFAULT_COMPLETION_RESERVE = 1024;
/** Tokens each message adds beyond its text (its role and separators; OpenAI's counting guide says 3). */
export const TOKENS_PER_MESSAGE = 3;
/** Tokens a request with messages adds once (the opening of the reply), as in the same guide. */
export const TOKENS_PER_REQUEST = 3;
/**
 * Tokens each media part (an image, audio, a file) counts, whatever its size: about what Anthropic counts for the
 * largest image it takes unscaled; OpenAI and Gemini count fewer for an image (audio and documents can be more).
 */
export const TOKENS_PER_MEDIA_PART = 1600;

let tokenizer: typeof GptTokenizer | undefined;

/**
 * The tokenizer, loaded at its first use: its encoding tables take about 70 MB, which a gateway that never
 * meters (GATEWAY_KEYS=off) should not carry.
 */
function countTokens(text: string): number {
  // A lazy require, not an import: the module must not load with this one. Both are CommonJS here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tokenizer ??= require('gpt-tokenizer') as typeof GptTokenizer;
  return tokenizer.countTokens(text, { disallowedSpecial: NO_SPECIAL_TOKENS });
}

/** Special-token text (`<|endoftext|>`) in a prompt is counted as plain text, never refused. */
const NO_SPECIAL_TOKENS = new Set<string>();

/**
 * How much of a text is tokenized exactly (a few milliseconds' work); the rest of a longer text counts one token
 * per 4 characters, so no request can hold the event loop for long (a 32 MiB body would take seconds).
 */
export const EXACT_TOKENS_TEXT_LENGTH = 256 * 1024;
const CHARACTERS_PER_TOKEN = 4;

/**
 * Tokens in a text, by the o200k encoding (GPT-4o and later; other providers' tokenizers differ a little), exact
 * up to EXACT_TOKENS_TEXT_LENGTH characters and estimated by length past them.
 */
export function estimateTextTokens(text: string): number {
  if (text === '') {
    return 0;
  }
  if (text.length <= EXACT_TOKENS_TEXT_LENGTH) {
    return countTokens(text);
  }
  const exact = countTokens(text.slice(0, EXACT_TOKENS_TEXT_LENGTH));
  return exact + Math.ceil((text.length - EXACT_TOKENS_TEXT_LENGTH) / CHARACTERS_PER_TOKEN);
}

/**
 * An estimate of a request's prompt tokens, made before it is sent (for a reservation) and when the provider
 * reports none: the prompt text's tokens (tool definitions and calls as their JSON), the token arrays' lengths,
 * `TOKENS_PER_MEDIA_PART` for each image, audio or file, and `TOKENS_PER_MESSAGE` for each message plus
 * `TOKENS_PER_REQUEST` once when there are messages.
 */
export function estimatePromptTokens(dialect: WireDialect, body: unknown): number {
  const parts = promptParts(dialect, body);
  const overhead = parts.messages === 0 ? 0 : parts.messages * TOKENS_PER_MESSAGE + TOKENS_PER_REQUEST;
  return estimateTextTokens(parts.texts.join('\n')) + parts.tokenIds + parts.media * TOKENS_PER_MEDIA_PART + overhead;
}

/** A field's allowance: a positive, whole (and safe) number, else none (zod's `number().int().positive()`). */
function allowanceOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The most completion tokens a request allows itself: OpenAI's `max_completion_tokens`, else `max_tokens` (also
 * Anthropic's), the Responses API's `max_output_tokens`, Gemini's `generationConfig.maxOutputTokens`. Only a
 * positive whole number counts; undefined when none is given (a reservation then counts
 * `DEFAULT_COMPLETION_RESERVE`).
 */
export function completionAllowance(body: unknown): number | undefined {
  if (!isRecord(body)) {
    return undefined;
  }
  const generationConfig = body['generationConfig'];
  return (
    allowanceOf(body['max_completion_tokens']) ??
    allowanceOf(body['max_tokens']) ??
    allowanceOf(body['max_output_tokens']) ??
    (isRecord(generationConfig) ? allowanceOf(generationConfig['maxOutputTokens']) : undefined)
  );
}

/** A reported part of a count (cached, reasoning): none below 0, none above the count. */
function partOf(value: number | undefined, most: number): number {
  return Math.min(most, Math.max(0, value ?? 0));
}

/**
 * The usage to record and bill: each count as the provider reported it, or, when it did not (a stream that ended
 * early, a provider that reports nothing), the prompt estimate and the delivered text's tokens; the sources say
 * which. Cached, cache-write and reasoning tokens come only with a provider's count, and never exceed it (the
 * cache reads and writes together never exceed the prompt, the 1-hour writes never the writes).
 */
export function meteredUsage(
  reported: ReportedUsage | undefined,
  estimate: { promptTokens: number; deliveredText: string },
): MeteredUsage {
  const reportedPrompt = reported?.promptTokens;
  const reportedCompletion = reported?.completionTokens;
  const promptTokens = reportedPrompt ?? Math.max(0, Math.ceil(estimate.promptTokens));
  const completionTokens = reportedCompletion ?? estimateTextTokens(estimate.deliveredText);
  const cachedPromptTokens = reportedPrompt === undefined ? 0 : partOf(reported?.cachedPromptTokens, promptTokens);
  const cacheWritePromptTokens =
    reportedPrompt === undefined ? 0 : partOf(reported?.cacheWritePromptTokens, promptTokens - cachedPromptTokens);
  return {
    promptTokens,
    completionTokens,
    cachedPromptTokens,
    cacheWritePromptTokens,
    cacheWrite1hPromptTokens: partOf(reported?.cacheWrite1hPromptTokens, cacheWritePromptTokens),
    reasoningTokens: reportedCompletion === undefined ? 0 : partOf(reported?.reasoningTokens, completionTokens),
    promptSource: reportedPrompt === undefined ? 'estimated' : 'provider',
    completionSource: reportedCompletion === undefined ? 'estimated' : 'provider',
  };
}
