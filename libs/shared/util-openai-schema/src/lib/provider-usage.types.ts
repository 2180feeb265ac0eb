/**
 * The tokens one provider call used, as the provider counted them, in the same shape for every provider: what a
 * usage ledger reads, whichever adapter served the call. Absent (undefined) when the provider reports none.
 */
export interface ProviderUsage {
  /** Every prompt token, those read from a cache included. */
  promptTokens: number;
  /** Every output token, those spent reasoning included. */
  completionTokens: number;
  /** The part of `promptTokens` the provider read from its prompt cache, when it says. */
  cachedPromptTokens?: number;
  /** The part of `promptTokens` the provider wrote to its prompt cache (Anthropic bills it above the input price). */
  cacheWritePromptTokens?: number;
  /** The part of `cacheWritePromptTokens` written with Anthropic's 1-hour lifetime (billed above the 5-minute writes). */
  cacheWrite1hPromptTokens?: number;
  /** The part of `completionTokens` the provider spent thinking, when it says. */
  reasoningTokens?: number;
}

/**
 * The prompt's part of a usage, which some providers report before any of the answer (Anthropic's
 * `message_start`, Gemini's first `usageMetadata`): a stream cut after it still has the provider's prompt count.
 */
export type PromptUsage = Pick<
  ProviderUsage,
  'promptTokens' | 'cachedPromptTokens' | 'cacheWritePromptTokens' | 'cacheWrite1hPromptTokens'
>;
