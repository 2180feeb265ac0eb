import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';
import type {
  CallContext,
  PreparedCall,
  ProviderAdapter,
  ProviderOperation,
} from '@openai-proxy/util-provider-contract';
import { bardCookies, bardHeaders } from './bard-credentials';
import { type BardInput, bardInput } from './bard-input.schema';
import type { BardCookies, BardSession } from './bard-session.types';
import { type BardContext, NEW_CONVERSATION, encodeStreamGenerateForm, parseStreamGenerate } from './bard.transform';

/** What the Bard bridge serves: one question, answered with a bare JSON string. */
export type BardOperation = 'ask';

export const STREAM_GENERATE_PATH = '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';

/**
 * Bard's refusal of a StreamGenerate call as our exception: its answers are HTML, so only the status counts
 * (and a 429's Retry-After, passed on).
 */
export function bardError(status: number, _body: unknown, retryAfter: string | undefined): GatewayException {
  if (status === 401 || status === 403) {
    return new GatewayException(
      ErrorCode.InvalidApiKey,
      'Bard rejected the session: refresh __Secure-1PSID and __Secure-1PSIDTS',
    );
  }
  if (status === 429) {
    return new GatewayException(ErrorCode.RateLimited, 'Bard is rate limiting these cookies', {
      headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
    });
  }
  return new GatewayException(ErrorCode.UpstreamBadResponse, `Bard answered ${status}`);
}

/** Where the asked conversation stands: kept for these cookies, else a new conversation. */
function contextOf(session: BardSession, cookies: BardCookies, conversationId: string | undefined): BardContext {
  return (conversationId === undefined ? undefined : session.conversation(cookies, conversationId)) ?? NEW_CONVERSATION;
}

/** One StreamGenerate call: the page tokens first (cached, else scraped), then the form with the prompt. */
function askOperation(session: BardSession): ProviderOperation<BardCookies, BardInput> {
  let requestNumber = 100_000;
  return {
    input: bardInput,
    async prepare({ input, credentials, signal }: CallContext<BardCookies, BardInput>): Promise<PreparedCall> {
      const tokens = await session.tokens(credentials, signal);
      const context = contextOf(session, credentials, input.conversationId);
      requestNumber = (requestNumber % 900_000) + 1;
      return {
        answer: 'whole',
        request: {
          method: 'POST',
          path: `${STREAM_GENERATE_PATH}?bl=${encodeURIComponent(tokens.bl)}&_reqid=${requestNumber}&rt=c`,
          headers: bardHeaders(credentials, '*/*'),
          encodedBody: {
            contentType: FORM_CONTENT_TYPE,
            text: encodeStreamGenerateForm(input.prompt, tokens, context),
          },
        },
        read: {
          read(text) {
            const answer = parseStreamGenerate(text);
            if ('problem' in answer) {
              return answer;
            }
            if (input.conversationId !== undefined) {
              session.remember(credentials, input.conversationId, answer.context);
            }
            return { body: answer.text, usage: undefined };
          },
        },
        // The cached tokens no longer open a session: the next call scrapes the page again.
        finish: (report) => {
          if (report.error?.code === ErrorCode.InvalidApiKey) {
            session.forgetTokens(credentials);
          }
          return Promise.resolve();
        },
      };
    },
  };
}

/**
 * Bard through browser cookies as a provider adapter: the page scrape and the conversations are the session's
 * (I/O the feature lib owns); the adapter plans the StreamGenerate call and reads its answer.
 */
export function bardAdapter(baseUrl: string, session: BardSession): ProviderAdapter<BardCookies, BardOperation> {
  return {
    name: 'bard',
    baseUrl,
    credentials: bardCookies,
    translateError: bardError,
    operations: { ask: askOperation(session) },
  };
}
