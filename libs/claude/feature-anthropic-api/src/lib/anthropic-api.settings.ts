/** Injection token for AnthropicApiSettings. */
export const ANTHROPIC_API_SETTINGS = Symbol('ANTHROPIC_API_SETTINGS');

export interface AnthropicApiSettings {
  /** `ANTHROPIC_API_BASE`, without a trailing slash. */
  apiBase: string;
  /** `max_tokens` when a request sets none (Anthropic requires one): `ANTHROPIC_DEFAULT_MAX_TOKENS`. */
  defaultMaxTokens: number;
}
