import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { readBearerToken } from '@openai-proxy/util-auth-headers';
import { type ChatCompletionRequest, chunksToCompletion } from '@openai-proxy/util-openai-schema';
import {
  type CallContext,
  type PreparedCall,
  type ProviderAdapter,
  type ProviderOperation,
  chatCompletionInput,
} from '@openai-proxy/util-provider-contract';
import type { AppendMessageBody } from './claude-web.types';
import { claudeWebError, missingSessionKey } from './claude-web.errors';
import {
  type ClaudeWebAdapterSettings,
  type ClaudeWebConversations,
  type ClaudeWebLog,
  claudeWebHeaders,
} from './claude-web-conversations.types';
import { buildClaudeWebPrompt, chooseClaudeWebModel } from './prompt.transform';
import { ClaudeWebStreamTransformer } from './stream.transform';

/** What the OpenAI-style claude.ai routes serve: a fresh conversation per call, or the one in the path. */
export type ClaudeWebCompletionsOperation = 'freshChat' | 'conversationChat';

/** The timezone the original sent with every prompt. */
const TIMEZONE = 'Asia/Shanghai';

/** What the OpenAI-style claude.ai adapter is given: its settings, its control-plane calls, its log. */
export interface ClaudeWebCompletionsDeps {
  settings: ClaudeWebAdapterSettings;
  conversations: ClaudeWebConversations;
  log: ClaudeWebLog;
}

function bearerSessionKey(headers: IncomingHttpHeaders): string {
  const key = readBearerToken(headers);
  if (key === undefined) {
    throw missingSessionKey('bearer');
  }
  return key;
}

/** The append_message call in `conversation`: streamed, or collected into one completion for the client. */
function appendCall(
  settings: ClaudeWebAdapterSettings,
  context: CallContext<string, ChatCompletionRequest>,
  conversation: string,
  prompt: string,
): PreparedCall {
  const org = context.params['org'] ?? '';
  const model = chooseClaudeWebModel(context.input.model, settings.webModel);
  const body: AppendMessageBody = {
    completion: { prompt, timezone: TIMEZONE, model },
    organization_uuid: org,
    conversation_uuid: conversation,
    text: prompt,
    attachments: [],
  };
  const request = {
    method: 'POST' as const,
    path: '/append_message',
    headers: claudeWebHeaders(context.credentials, 'text/event-stream'),
    body,
  };
  const identity = { id: `chatcmpl-${randomUUID()}`, createdSeconds: Math.floor(Date.now() / 1000), model };
  const transformer = new ClaudeWebStreamTransformer(identity);
  if (context.input.stream === true) {
    return { answer: 'stream', request, transformer };
  }
  const completion = { id: identity.id, model, created: identity.createdSeconds };
  return { answer: 'collect', request, transformer, complete: (chunks) => chunksToCompletion(chunks, completion) };
}

/** A fresh conversation for the call, deleted once it ended when auto-delete is on. */
function freshChat(deps: ClaudeWebCompletionsDeps): ProviderOperation<string, ChatCompletionRequest> {
  const { settings, conversations, log } = deps;
  return {
    input: chatCompletionInput,
    async prepare(context) {
      const org = context.params['org'] ?? '';
      const sessionKey = context.credentials;
      // The prompt is checked before a conversation is made for it.
      const prompt = buildClaudeWebPrompt(context.input.messages);
      const name = `${settings.defaultConversationName}-${Date.now()}`;
      const conversation = await conversations.createConversation(org, sessionKey, name, context.signal);
      const call = appendCall(settings, context, conversation, prompt);
      if (!settings.autoDeleteConversation) {
        return call;
      }
      const finish = async (): Promise<void> => {
        // No signal: the clean-up runs even when the client left.
        await conversations.deleteConversation(org, sessionKey, conversation).catch(() => {
          log.warn('Could not delete the conversation this call created');
        });
      };
      return { ...call, finish };
    },
  };
}

/** The conversation named in the path: claude.ai keeps its history, nothing is deleted. */
function conversationChat(settings: ClaudeWebAdapterSettings): ProviderOperation<string, ChatCompletionRequest> {
  return {
    input: chatCompletionInput,
    prepare: (context) =>
      appendCall(settings, context, context.params['conversation'] ?? '', buildClaudeWebPrompt(context.input.messages)),
  };
}

/** OpenAI chat completions over claude.ai's web session; the credential is the session key as Bearer. */
export function claudeWebCompletionsAdapter(
  deps: ClaudeWebCompletionsDeps,
): ProviderAdapter<string, ClaudeWebCompletionsOperation> {
  return {
    name: 'claude.ai',
    baseUrl: deps.settings.webBase,
    credentials: bearerSessionKey,
    translateError: claudeWebError,
    operations: { freshChat: freshChat(deps), conversationChat: conversationChat(deps.settings) },
  };
}
