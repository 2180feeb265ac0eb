import { randomUUID } from 'node:crypto';
import {
  type ProviderAdapter,
  type ProviderOperation,
  chatCompletionInput,
  jsonAnswer,
  modelListOperation,
} from '@openai-proxy/util-provider-contract';
import type { ChatCompletionRequest } from '@openai-proxy/util-openai-schema';
import { toGatewayError } from './error.transform';
import type { GeminiApiSettings } from './gemini-api.settings';
import { geminiCredentialHeaders } from './gemini-credentials';
import { geminiModelListSchema, geminiResponseSchema } from './gemini.schema';
import type { GeminiModelList } from './gemini.types';
import { toModelList } from './models.transform';
import { geminiModelName, toGeminiRequest } from './request.transform';
import { toChatCompletion, toProviderUsage } from './response.transform';
import { GeminiStreamTransformer } from './stream.transform';

/** What the Gemini bridge serves. */
export type GeminiOperation = 'chat' | 'models';

/** The credential in the one header Google takes it in: `x-goog-api-key`, or an OAuth token as Bearer. */
type GeminiCredentials = Record<string, string>;

function geminiHeaders(credentials: GeminiCredentials, accept: string): Record<string, string> {
  return { ...credentials, accept, 'accept-encoding': 'identity' };
}

/** Chat completions over generateContent, or streamGenerateContent (SSE) when the client streams. */
const chatOperation: ProviderOperation<GeminiCredentials, ChatCompletionRequest> = {
  input: chatCompletionInput,
  prepare({ input, credentials }) {
    const stream = input.stream === true;
    const model = geminiModelName(input.model);
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const request = {
      method: 'POST' as const,
      path: `/v1beta/models/${encodeURIComponent(model)}:${method}`,
      headers: geminiHeaders(credentials, stream ? 'text/event-stream' : 'application/json'),
      body: toGeminiRequest(input),
    };
    const id = randomUUID().replace(/-/g, '');
    const createdSeconds = Math.floor(Date.now() / 1000);
    if (stream) {
      const includeUsage = input.stream_options?.include_usage === true;
      const options = { id, createdSeconds, model, includeUsage, candidates: input.n ?? 1 };
      return { answer: 'stream', request, transformer: new GeminiStreamTransformer(options) };
    }
    const read = jsonAnswer(geminiResponseSchema, (answer) => ({
      body: toChatCompletion(answer, model, createdSeconds, id),
      usage: answer.usageMetadata === undefined ? undefined : toProviderUsage(answer.usageMetadata),
    }));
    return { answer: 'whole', request, read };
  },
};

/** The models list, OpenAI-shaped (ids without the `models/` prefix). */
const modelsOperation = modelListOperation<GeminiCredentials, GeminiModelList>({
  path: '/v1beta/models?pageSize=1000',
  headers: ({ credentials }) => geminiHeaders(credentials, 'application/json'),
  schema: geminiModelListSchema,
  toModelList,
});

/** The Gemini API as a provider adapter; the key never goes into a URL. */
export function geminiAdapter(settings: GeminiApiSettings): ProviderAdapter<GeminiCredentials, GeminiOperation> {
  return {
    name: 'gemini',
    baseUrl: settings.apiBase,
    credentials: (headers) => geminiCredentialHeaders({ headers }),
    translateError: toGatewayError,
    operations: { chat: chatOperation, models: modelsOperation },
  };
}
