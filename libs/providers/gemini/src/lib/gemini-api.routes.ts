import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import type { GeminiOperation } from './gemini.adapter';

/** The OpenAI-compatible routes over the Gemini API. */
export const GEMINI_API_ROUTES: readonly ProviderRoute<GeminiOperation>[] = [
  {
    method: 'POST',
    path: '/google/v1/chat/completions',
    operation: 'chat',
    summary: 'OpenAI chat completions over the Gemini API (key as Bearer or x-goog-api-key, never in a URL).',
    tag: 'google',
  },
  {
    method: 'GET',
    path: '/google/v1/models',
    operation: 'models',
    summary: 'Gemini models as an OpenAI model list (ids without the models/ prefix).',
    tag: 'google',
  },
];
