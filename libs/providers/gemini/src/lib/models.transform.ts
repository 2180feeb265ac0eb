import type { OpenAiModelList } from '@openai-proxy/util-openai-schema';
import type { GeminiModelList } from './gemini.types';

/** Gemini `GET /v1beta/models` → OpenAI model list, ids without the `models/` prefix. */
export function toModelList(list: GeminiModelList): OpenAiModelList {
  return {
    object: 'list',
    data: (list.models ?? []).map((model) => ({
      id: model.name.replace(/^models\//, ''),
      object: 'model',
      created: 0,
      owned_by: 'google',
    })),
  };
}
