export type { AnthropicApiSettings } from '@openai-proxy/provider-anthropic';

/** Injection token for AnthropicApiSettings. */
export const ANTHROPIC_API_SETTINGS = Symbol('ANTHROPIC_API_SETTINGS');
