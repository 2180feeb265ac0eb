import { FakeUpstream, type RecordedRequest } from './fake-upstream';
import { json } from './fake-responses';
import { fakeChatCompletions } from './fake-openai';

/** The chat path of the fake Azure OpenAI resource's one deployment (gpt-4o). */
export const AZURE_CHAT_PATH = '/openai/deployments/gpt-4o/chat/completions';

/** A fake Azure OpenAI resource under /openai: the chat of deployment gpt-4o and an empty models list. */
export async function startFakeAzureOpenAi(): Promise<FakeUpstream> {
  return (await FakeUpstream.start())
    .on('POST', AZURE_CHAT_PATH, fakeChatCompletions)
    .on('GET', '/openai/models', json(200, { object: 'list', data: [] }));
}

/** How a call arrived at Azure: its URL (with the query), its api-key and its Authorization header. */
export function azureArrival(arrived: RecordedRequest | undefined): Record<string, unknown> {
  return { url: arrived?.url, apiKey: arrived?.headers['api-key'], authorization: arrived?.headers.authorization };
}
