import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { readCookie } from '@openai-proxy/util-auth-headers';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import {
  type CallContext,
  type InputReader,
  type PreparedCall,
  type ProviderAdapter,
  type ProviderOperation,
  noInput,
} from '@openai-proxy/util-provider-contract';
import { claudeWebError, missingSessionKey } from './claude-web.errors';
import {
  type ClaudeWebAdapterSettings,
  type ClaudeWebConversations,
  type WebAnswer,
  claudeWebHeaders,
  conversationsPath,
} from './claude-web-conversations.types';
import { ClaudeWebStreamEndWatch } from './stream-end.watch';
import { ClaudeWebStreamTransformer } from './stream.transform';

/** The original proxy's claude.ai routes (docs/legacy-routes.md). */
export type ClaudeConversationsOperation =
  'list' | 'create' | 'deleteAll' | 'get' | 'deleteOne' | 'appendMessage' | 'retryMessage';

type Operation<Input> = ProviderOperation<string, Input>;

function cookieSessionKey(headers: IncomingHttpHeaders): string {
  const key = readCookie(headers, 'sessionKey');
  if (key === undefined || key === '') {
    throw missingSessionKey('cookie');
  }
  return key;
}

/**
 * claude.ai's answer passed on with its status; a refusal that is not JSON (a Cloudflare page) keeps its status
 * in our error; a success that is not JSON is a 502.
 */
function passedOn(answer: WebAnswer): PreparedCall {
  if (answer.json !== undefined) {
    return { answer: 'ready', status: answer.status, body: answer.json };
  }
  if (answer.text === '' && answer.status < 300) {
    return { answer: 'ready', status: answer.status };
  }
  if (answer.status >= 400) {
    throw claudeWebError(answer.status, undefined, answer.retryAfter);
  }
  throw new GatewayException(
    ErrorCode.UpstreamBadResponse,
    `claude.ai answered ${answer.status} with something that is not JSON`,
  );
}

function param(context: CallContext<string, unknown>, name: string): string {
  return context.params[name] ?? '';
}

/** One claude.ai call whose answer is passed on: a route's control-plane call, ended by `context.signal`. */
function passThroughOperation(
  conversations: ClaudeWebConversations,
  method: 'GET' | 'DELETE',
  path: (context: CallContext<string, undefined>) => string,
): Operation<undefined> {
  return {
    input: noInput,
    prepare: async (context) =>
      passedOn(await conversations.call(method, path(context), context.credentials, { signal: context.signal })),
  };
}

const createBodySchema = z.looseObject({ name: z.unknown().optional(), uuid: z.unknown().optional() });

/** `{"name", "uuid"?}`: a missing name is a 400; an empty one takes the default name, a missing uuid a new one. */
function createInput(defaultName: string): InputReader<{ name: string; uuid: string }> {
  return {
    body: 'json',
    parse(body) {
      const parsed = createBodySchema.safeParse(body);
      const { name, uuid } = parsed.success ? parsed.data : { name: undefined, uuid: undefined };
      if (name === undefined) {
        throw new GatewayException(ErrorCode.InvalidRequest, 'Missing parameter: name', { param: 'name' });
      }
      return {
        name: typeof name === 'string' && name !== '' ? name : defaultName,
        uuid: typeof uuid === 'string' && uuid !== '' ? uuid : randomUUID(),
      };
    },
  };
}

function createOperation(
  conversations: ClaudeWebConversations,
  defaultName: string,
): Operation<{ name: string; uuid: string }> {
  return {
    input: createInput(defaultName),
    prepare: async ({ params, input, credentials, signal }) =>
      passedOn(
        await conversations.call('POST', conversationsPath(params['org'] ?? ''), credentials, { body: input, signal }),
      ),
  };
}

/**
 * Delete-all is asked for by its exact path only. The route's match ignores one trailing slash, and
 * `…/chat_conversations/` is what a delete of one conversation looks like when its id is empty: a trailing
 * slash must not widen a delete to every conversation.
 */
function requireExactDeleteAllPath(pathname: string, org: string): void {
  if (pathname.endsWith('/')) {
    const base = `/claude/organizations/${org}/chat_conversations`;
    throw new GatewayException(
      ErrorCode.InvalidRequest,
      `Missing conversation id: DELETE ${base}/<uuid> deletes one conversation, DELETE ${base} (no trailing slash) deletes all of them`,
    );
  }
}

const conversationListSchema = z.array(z.unknown());
const listedConversationSchema = z.looseObject({ uuid: z.string() });

/** Every conversation of the organization deleted, one after another; answers "success". */
function deleteAllOperation(conversations: ClaudeWebConversations): Operation<undefined> {
  return {
    input: noInput,
    async prepare(context) {
      const org = param(context, 'org');
      requireExactDeleteAllPath(context.pathname, org);
      const { credentials: sessionKey, signal } = context;
      const listed = await conversations.call('GET', conversationsPath(org), sessionKey, { signal });
      const list = conversationListSchema.safeParse(listed.json);
      if (listed.status < 200 || listed.status >= 300 || !list.success) {
        return passedOn(
          listed.status >= 300 ? listed : { ...listed, status: 200, json: undefined, text: 'not a list' },
        );
      }
      for (const item of list.data) {
        const listedConversation = listedConversationSchema.safeParse(item);
        if (listedConversation.success) {
          await conversations.deleteConversation(org, sessionKey, listedConversation.data.uuid, signal);
        }
      }
      return { answer: 'ready', status: 200, body: 'success' };
    },
  };
}

/** A JSON object, sent to claude.ai as it came. */
const objectInput: InputReader<object> = {
  body: 'json',
  parse(body) {
    if (typeof body !== 'object' || body === null) {
      throw new GatewayException(
        ErrorCode.InvalidRequest,
        'The body must be a JSON object (send Content-Type: application/json)',
        { param: 'body' },
      );
    }
    return body;
  },
};

/**
 * append_message / retry_message: text/event-stream clients get claude.ai's events untouched (the watch only
 * tells a complete stream from a cut one), others the answer's text joined, as text/plain.
 */
function messageOperation(path: '/append_message' | '/retry_message'): Operation<object> {
  return {
    input: objectInput,
    prepare({ input, credentials, headers }) {
      const request = {
        method: 'POST' as const,
        path,
        headers: claudeWebHeaders(credentials, 'text/event-stream'),
        body: input,
      };
      if ((headers.accept ?? '').includes('text/event-stream')) {
        return { answer: 'relay', request, watch: new ClaudeWebStreamEndWatch() };
      }
      return {
        answer: 'collect',
        request,
        transformer: new ClaudeWebStreamTransformer({ id: 'raw', createdSeconds: 0, model: '' }),
        complete: (chunks) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''),
        textType: 'text/plain; charset=utf-8',
        responseHeaders: { 'cache-control': 'no-cache, no-transform' },
      };
    },
  };
}

/** claude.ai's own routes as the original proxy served them; the credential is `Cookie: sessionKey=`. */
export function claudeConversationsAdapter(
  settings: ClaudeWebAdapterSettings,
  conversations: ClaudeWebConversations,
): ProviderAdapter<string, ClaudeConversationsOperation> {
  const one = (context: CallContext<string, undefined>): string =>
    conversationsPath(param(context, 'org'), param(context, 'conversation'));
  return {
    name: 'claude.ai',
    baseUrl: settings.webBase,
    credentials: cookieSessionKey,
    translateError: claudeWebError,
    operations: {
      list: passThroughOperation(conversations, 'GET', (context) => conversationsPath(param(context, 'org'))),
      create: createOperation(conversations, settings.defaultConversationName),
      deleteAll: deleteAllOperation(conversations),
      get: passThroughOperation(conversations, 'GET', one),
      deleteOne: passThroughOperation(conversations, 'DELETE', one),
      appendMessage: messageOperation('/append_message'),
      retryMessage: messageOperation('/retry_message'),
    },
  };
}
