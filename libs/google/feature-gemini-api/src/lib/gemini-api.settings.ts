/** Injection token for GeminiApiSettings. */
export const GEMINI_API_SETTINGS = Symbol('GEMINI_API_SETTINGS');

export interface GeminiApiSettings {
  /** `GEMINI_API_BASE`, without a trailing slash. */
  apiBase: string;
}
