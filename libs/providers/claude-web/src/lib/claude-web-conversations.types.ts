/** A browser's User-Agent: claude.ai serves browsers. */
const BROWSER_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** The only headers claude.ai gets: the session cookie and what a browser would send. */
export function claudeWebHeaders(sessionKey: string, accept: string): Record<string, string> {
  return {
    cookie: `sessionKey=${sessionKey}`,
    accept,
    'user-agent': BROWSER_USER_AGENT,
    'accept-encoding': 'identity',
  };
}

/** The path of an organization's conversations, or of one of them, each name encoded. */
export function conversationsPath(org: string, conversation?: string): string {
  const base = `/organizations/${encodeURIComponent(org)}/chat_conversations`;
  return conversation === undefined ? base : `${base}/${encodeURIComponent(conversation)}`;
}

/** A claude.ai answer as it came: status, raw text and (when it is JSON) the parsed body. */
export interface WebAnswer {
  status: number;
  text: string;
  json: unknown;
  retryAfter: string | undefined;
}

/** What a claude.ai call may carry besides its route: a JSON body, and the signal that ends it. */
export interface WebCallOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export type WebMethod = 'GET' | 'POST' | 'DELETE';

/**
 * The control-plane calls the claude.ai adapters need (conversation creation, deletion, the conversation
 * routes), given to them by the feature lib so that the adapters stay pure objects.
 */
export interface ClaudeWebConversations {
  /** One call below the claude.ai base (`path` from conversationsPath); `options.signal` ends it. */
  call(method: WebMethod, path: string, sessionKey: string, options?: WebCallOptions): Promise<WebAnswer>;
  /**
   * Creates a conversation named `name`; resolves with its uuid, or rejects with claude.ai's refusal (status
   * kept). `signal` is the client's: a client already gone makes none (see the implementation for why a
   * creation once sent is not cut when the client leaves).
   */
  createConversation(org: string, sessionKey: string, name: string, signal?: AbortSignal): Promise<string>;
  /** Deletes one conversation; resolves with claude.ai's status. Without `signal` it runs to its end. */
  deleteConversation(org: string, sessionKey: string, conversation: string, signal?: AbortSignal): Promise<number>;
}

/** Where an adapter reports what the client cannot be told (a conversation it could not delete after the call). */
export interface ClaudeWebLog {
  warn(message: string): void;
}

/** What the claude.ai adapters read from the bridge's settings. */
export interface ClaudeWebAdapterSettings {
  /** `CLAUDE_WEB_BASE`, without a trailing slash. */
  webBase: string;
  /** Used when the request's model does not start with `claude`. */
  webModel: string;
  /** Delete the conversation a call created once its answer ends. */
  autoDeleteConversation: boolean;
  /** Prefix of the conversations the OpenAI-style route creates; the name of an unnamed one. */
  defaultConversationName: string;
}
