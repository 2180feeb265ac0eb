import type { ChatMessage } from '@openai-proxy/util-openai-schema';
import { invalidParam, requireTextContent } from '@openai-proxy/util-errors';

const invalid = invalidParam;

/** A message's text (text parts only: claude.ai takes no images). */
function messageText(message: ChatMessage, index: number): string {
  return requireTextContent(message.content, `messages[${index}].content`);
}

/**
 * The original's prompt template (docs/legacy-routes.md) with its fix: every earlier user/assistant turn
 * is kept, in order, as `content + "\n"` each; the last system message is appended in parentheses.
 */
export function buildClaudeWebPrompt(messages: readonly ChatMessage[]): string {
  if (messages.length === 0) {
    throw invalid('Request body parameter error, please check if messages is missing.', 'messages');
  }
  const last = messages[messages.length - 1];
  if (last.role !== 'user') {
    throw invalid(
      'Please check if there is user information in the messages, like {"role": "user", "content": "Hello!"}',
      `messages[${messages.length - 1}].role`,
    );
  }
  let system = '';
  let tips = '';
  messages.slice(0, -1).forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') {
      system = messageText(message, index);
    } else if (message.role === 'user' || message.role === 'assistant') {
      tips += `${messageText(message, index)}\n`;
    }
  });
  const intro =
    tips === ''
      ? ''
      : `Tips: ${tips} \nPlease refer to the prompts above for your answer (Return the results of the question):\n`;
  const suffix = system === '' ? '' : `(${system})`;
  return `${intro}${messageText(last, messages.length - 1)}${suffix}`;
}

/** The claude.ai model: the request's when it names a Claude model, else the configured default. */
export function chooseClaudeWebModel(requested: string | undefined, fallback: string): string {
  return requested !== undefined && requested.startsWith('claude') ? requested : fallback;
}
