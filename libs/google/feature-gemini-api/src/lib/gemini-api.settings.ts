export type { GeminiApiSettings } from '@openai-proxy/provider-gemini';

/** Injection token for GeminiApiSettings. */
export const GEMINI_API_SETTINGS = Symbol('GEMINI_API_SETTINGS');
