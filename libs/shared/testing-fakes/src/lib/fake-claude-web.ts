import { encodeSseData } from '@openai-proxy/util-sse';
import { type FakeHandler, FakeUpstream, type RecordedRequest } from './fake-upstream';
import { json, sse } from './fake-responses';

interface Conversation {
  uuid: string;
  name: string;
  summary: string;
  created_at: string;
  updated_at: string;
  chat_messages: Array<{ uuid: string; text: string; sender: 'human' | 'assistant'; index: number }>;
}

const CONVERSATIONS = /^\/organizations\/([^/]+)\/chat_conversations(?:\/([^/]+))?$/;

function summaryOf(conversation: Conversation): Omit<Conversation, 'chat_messages'> {
  return {
    uuid: conversation.uuid,
    name: conversation.name,
    summary: conversation.summary,
    created_at: conversation.created_at,
    updated_at: conversation.updated_at,
  };
}

function sessionOk(request: RecordedRequest): boolean {
  return /(?:^|;\s*)sessionKey=sk-ant-sid01-/.test(String(request.headers.cookie ?? ''));
}

const refused: FakeHandler = json(403, {
  error: { type: 'permission_error', message: 'We are unable to serve your request' },
});

/** Deterministic answer deltas, with a leading space as claude.ai answers. */
export function fakeClaudeWebDeltas(prompt: string): string[] {
  return [' Hello', ' from claude.ai.', ` You said: ${prompt}`];
}

/** A conversation without messages, as a test puts it in the fake's store. */
export function emptyConversation(uuid: string, name = uuid): Conversation {
  return { uuid, name, summary: '', created_at: '', updated_at: '', chat_messages: [] };
}

/** A running fake claude.ai: its server and the conversations it keeps. */
export interface FakeClaudeWeb {
  fake: FakeUpstream;
  conversations: Map<string, Conversation>;
}

/**
 * A fake claude.ai web API: conversations kept in memory per organization, append_message and retry_message
 * answering SSE completion deltas (no `event:` lines, a final event with a stop_reason).
 */
export async function startFakeClaudeWeb(): Promise<FakeClaudeWeb> {
  const fake = await FakeUpstream.start();
  const conversations = new Map<string, Conversation>();
  const conversationsRoute: FakeHandler = (request, response) => {
    if (!sessionOk(request)) {
      return refused(request, response);
    }
    const [, , uuid] = CONVERSATIONS.exec(request.url.split('?')[0] ?? '') ?? [];
    if (uuid === undefined && request.method === 'GET') {
      return json(200, [...conversations.values()].map(summaryOf))(request, response);
    }
    if (uuid === undefined && request.method === 'POST') {
      const body = JSON.parse(request.body.toString() || '{}') as { uuid?: string; name?: string };
      const now = new Date(0).toISOString();
      const conversation: Conversation = {
        uuid: body.uuid ?? 'generated',
        name: body.name ?? '',
        summary: '',
        created_at: now,
        updated_at: now,
        chat_messages: [],
      };
      conversations.set(conversation.uuid, conversation);
      return json(201, summaryOf(conversation))(request, response);
    }
    const conversation = uuid === undefined ? undefined : conversations.get(uuid);
    if (conversation === undefined) {
      return json(404, { error: { type: 'not_found_error', message: 'Conversation not found' } })(request, response);
    }
    if (request.method === 'DELETE') {
      conversations.delete(conversation.uuid);
      response.writeHead(204).end();
      return undefined;
    }
    return json(200, conversation)(request, response);
  };
  const completion: FakeHandler = (request, response) => {
    if (!sessionOk(request)) {
      return refused(request, response);
    }
    const body = JSON.parse(request.body.toString() || '{}') as {
      conversation_uuid?: string;
      text?: string;
      completion?: { model?: string };
    };
    const conversation = body.conversation_uuid === undefined ? undefined : conversations.get(body.conversation_uuid);
    if (conversation === undefined) {
      return json(404, { error: { type: 'not_found_error', message: 'Conversation not found' } })(request, response);
    }
    const prompt = body.text ?? '';
    const model = body.completion?.model ?? 'claude-2.1';
    const deltas = fakeClaudeWebDeltas(prompt);
    conversation.chat_messages.push(
      {
        uuid: `m${conversation.chat_messages.length}`,
        text: prompt,
        sender: 'human',
        index: conversation.chat_messages.length,
      },
      {
        uuid: `m${conversation.chat_messages.length + 1}`,
        text: deltas.join(''),
        sender: 'assistant',
        index: conversation.chat_messages.length + 1,
      },
    );
    const event = (completionText: string, stopReason: string | null): string =>
      encodeSseData({
        completion: completionText,
        stop_reason: stopReason,
        model,
        stop: null,
        log_id: 'log_fake',
        messageLimit: { type: 'within_limit' },
      });
    return sse({ frames: [...deltas.map((delta) => event(delta, null)), event('', 'stop_sequence')], intervalMs: 5 })(
      request,
      response,
    );
  };
  fake
    .on('*', CONVERSATIONS, conversationsRoute)
    .on('POST', '/append_message', completion)
    .on('POST', '/retry_message', completion);
  return { fake, conversations };
}
