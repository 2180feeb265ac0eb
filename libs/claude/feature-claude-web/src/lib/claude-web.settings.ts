/** Injection token for ClaudeWebSettings. */
export const CLAUDE_WEB_SETTINGS = Symbol('CLAUDE_WEB_SETTINGS');

export interface ClaudeWebSettings {
  /** `CLAUDE_WEB_BASE` (alias `CLAUDE_BASE`), without a trailing slash. */
  webBase: string;
  /** `CLAUDE_WEB_MODEL`: used when the request's model does not start with `claude`. */
  webModel: string;
  /** `CLAUDE_AUTO_DELETE_CONVERSATION`: delete the conversation a call created once its answer ends. */
  autoDeleteConversation: boolean;
  /** `CLAUDE_DEFAULT_CONVERSATION_NAME`: prefix of the conversations the OpenAI-style route creates. */
  defaultConversationName: string;
}
