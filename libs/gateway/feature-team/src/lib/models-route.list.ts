import { z } from 'zod';
import { type ModelRouter, modelAllowed } from '@openai-proxy/gateway-util-team';
import type { OpenAiModel, OpenAiModelList } from '@openai-proxy/util-openai-schema';

/** An upstream's `GET …/models` answer as read: OpenAI's list shape, only `id` required of each model. */
export const upstreamModelListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string().min(1),
      created: z.number().int().nonnegative().optional(),
      owned_by: z.string().optional(),
    }),
  ),
});

/** One provider's models as its upstream listed them. */
export interface ProviderModels {
  provider: string;
  models: z.infer<typeof upstreamModelListSchema>['data'];
}

/** `GET /v1/models`'s answer, exactly. */
export const modelListAnswerSchema = z.strictObject({
  object: z.literal('list'),
  data: z.array(
    z.strictObject({
      id: z.string(),
      object: z.literal('model'),
      created: z.number().int().nonnegative(),
      owned_by: z.string(),
    }),
  ),
}) satisfies z.ZodType<OpenAiModelList>;

/**
 * The id under which the team endpoint reaches `provider`'s model `id`: the bare id when the routing table sends
 * it there unchanged (`gpt-4o` → openai, `deepseek-chat` → deepseek for a provider declaring `deepseek-*`), else
 * `<provider>/<id>`, which always reaches it (`deepseek/deepseek-chat`, `openai/davinci-002`,
 * `gemini/text-embedding-004`).
 */
export function routedModelId(router: ModelRouter, provider: string, id: string): string {
  const route = router.resolve(id);
  return route !== undefined && route.provider === provider && route.upstreamModel === id ? id : `${provider}/${id}`;
}

/**
 * The models a gateway key may use, as `GET /v1/models` lists them: the config file's aliases first (owned by
 * the provider they go to), then each provider's own models in its upstream's order, each under the id that
 * routes to it (routedModelId). A model is listed when the key's patterns allow its listed id or the model it is
 * sent upstream as, as the team endpoint decides; each id once (the first wins).
 */
export function teamModelList(
  router: ModelRouter,
  patterns: readonly string[],
  upstream: readonly ProviderModels[],
): OpenAiModelList {
  const listed = new Map<string, OpenAiModel>();
  const offer = (id: string, model: Omit<OpenAiModel, 'id' | 'object'>): void => {
    const route = router.resolve(id);
    const allowed = modelAllowed(patterns, id) || (route !== undefined && modelAllowed(patterns, route.upstreamModel));
    if (allowed && !listed.has(id)) {
      listed.set(id, { id, object: 'model', ...model });
    }
  };
  for (const alias of router.aliases()) {
    offer(alias, { created: 0, owned_by: router.resolve(alias)?.provider ?? 'gateway' });
  }
  for (const { provider, models } of upstream) {
    for (const model of models) {
      offer(routedModelId(router, provider, model.id), {
        created: model.created ?? 0,
        owned_by: model.owned_by ?? provider,
      });
    }
  }
  return { object: 'list', data: [...listed.values()] };
}
