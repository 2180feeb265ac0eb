import type { OpenAiCompatibleProvider } from '@openai-proxy/util-config';

/** Injection token for OpenAiRelaySettings. */
export const OPENAI_RELAY_SETTINGS = Symbol('OPENAI_RELAY_SETTINGS');

export interface OpenAiRelaySettings {
  /** `OPENAI_API_BASE` (alias `API_BASE`), without a trailing slash. */
  apiBase: string;
  /**
   * `OPENAI_COMPATIBLE_PROVIDERS` and the `GATEWAY_CONFIG` file's providers: each served at `/<name>/**` like
   * `/openai/**`, with its key header and query when it has them.
   */
  compatibleProviders: readonly OpenAiCompatibleProvider[];
}
