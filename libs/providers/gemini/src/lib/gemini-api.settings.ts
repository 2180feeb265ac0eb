/** What the Gemini adapter is configured with (the bard-bridge reads it from its environment). */
export interface GeminiApiSettings {
  /** `GEMINI_API_BASE`, without a trailing slash. */
  apiBase: string;
}
