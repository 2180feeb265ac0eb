/** Injection token for OpenAiRelaySettings. */
export const OPENAI_RELAY_SETTINGS = Symbol('OPENAI_RELAY_SETTINGS');

export interface OpenAiRelaySettings {
  /** `OPENAI_API_BASE` (alias `API_BASE`), without a trailing slash. */
  apiBase: string;
}
