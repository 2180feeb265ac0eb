/** What the Anthropic adapter is configured with (the claude-bridge reads them from its environment). */
export interface AnthropicApiSettings {
  /** `ANTHROPIC_API_BASE`, without a trailing slash. */
  apiBase: string;
  /** `max_tokens` when a request sets none (Anthropic requires one): `ANTHROPIC_DEFAULT_MAX_TOKENS`. */
  defaultMaxTokens: number;
}
