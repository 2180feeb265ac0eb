import type { ProviderRoute } from '@openai-proxy/util-provider-contract';
import type { AnthropicOperation } from './anthropic.adapter';

/** The OpenAI-compatible routes over the Anthropic Messages API. */
export const ANTHROPIC_API_ROUTES: readonly ProviderRoute<AnthropicOperation>[] = [
  {
    method: 'POST',
    path: '/claude/v1/chat/completions',
    operation: 'chat',
    summary: 'OpenAI chat completions over the Anthropic Messages API (key as Bearer or x-api-key).',
    tag: 'claude',
  },
  {
    method: 'GET',
    path: '/claude/v1/models',
    operation: 'models',
    summary: 'Anthropic models as an OpenAI model list.',
    tag: 'claude',
  },
];
