import {
  type ProviderAdapter,
  type ProviderOperation,
  chatCompletionInput,
  jsonAnswer,
  modelListOperation,
} from '@openai-proxy/util-provider-contract';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import type { AnthropicApiSettings } from './anthropic-api.settings';
import { anthropicHeaders, requireAnthropicKey } from './anthropic-credentials';
import { anthropicMessagesResponseSchema, anthropicModelListSchema } from './anthropic.schema';
import type { AnthropicModelList } from './anthropic.types';
import { toGatewayError } from './error.transform';
import { toModelList } from './models.transform';
import { toAnthropicRequest } from './request.transform';
import { toChatCompletion, toProviderUsage } from './response.transform';
import { AnthropicStreamTransformer } from './stream.transform';

/** What the Anthropic bridge serves. */
export type AnthropicOperation = 'chat' | 'models';

/** Says what the translation changed (a json_object response format moved into the system prompt). */
const BRIDGE_NOTE_HEADER = 'x-bridge-note';

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Chat completions over `POST /v1/messages`, streamed or not as the client asked. */
function chatOperation(settings: AnthropicApiSettings): ProviderOperation<string, ChatCompletionRequest> {
  return {
    input: chatCompletionInput,
    prepare({ input, credentials, headers }) {
      const { body, notes } = toAnthropicRequest(input, { defaultMaxTokens: settings.defaultMaxTokens });
      const stream = input.stream === true;
      const request = {
        method: 'POST' as const,
        path: '/v1/messages',
        headers: anthropicHeaders({ headers }, credentials, stream ? 'text/event-stream' : 'application/json'),
        body,
      };
      const responseHeaders: Record<string, string> =
        notes.length > 0 ? { [BRIDGE_NOTE_HEADER]: notes.join('; ') } : {};
      if (stream) {
        const includeUsage = input.stream_options?.include_usage === true;
        const options = { createdSeconds: nowSeconds(), model: input.model, includeUsage };
        return { answer: 'stream', request, responseHeaders, transformer: new AnthropicStreamTransformer(options) };
      }
      const read = jsonAnswer(anthropicMessagesResponseSchema, (message) => ({
        body: toChatCompletion(message, nowSeconds()),
        usage: toProviderUsage(message.usage),
      }));
      return { answer: 'whole', request, responseHeaders, read };
    },
  };
}

/** The models list, OpenAI-shaped. */
const modelsOperation = modelListOperation<string, AnthropicModelList>({
  path: '/v1/models?limit=1000',
  headers: ({ credentials, headers }) => anthropicHeaders({ headers }, credentials, 'application/json'),
  schema: anthropicModelListSchema,
  toModelList,
});

/** The Anthropic Messages API as a provider adapter; its credential is the client's key (or OAuth token). */
export function anthropicAdapter(settings: AnthropicApiSettings): ProviderAdapter<string, AnthropicOperation> {
  return {
    name: 'anthropic',
    baseUrl: settings.apiBase,
    credentials: (headers) => requireAnthropicKey({ headers }),
    translateError: toGatewayError,
    operations: { chat: chatOperation(settings), models: modelsOperation },
  };
}
