import type { OpenAiModelList } from '@openai-proxy/util-openai-schema';
import type { AnthropicModelList } from './anthropic.types';

/** Anthropic `GET /v1/models` → OpenAI model list (`created` in seconds from `created_at`). */
export function toModelList(list: AnthropicModelList): OpenAiModelList {
  return {
    object: 'list',
    data: list.data.map((model) => ({
      id: model.id,
      object: 'model',
      created: model.created_at === undefined ? 0 : Math.floor(Date.parse(model.created_at) / 1000) || 0,
      owned_by: 'anthropic',
    })),
  };
}
