import type { ChatMessage } from '@openai-proxy/util-openai-schema';
import { ErrorCode, GatewayException } from '@openai-proxy/util-errors';

function invalid(message: string, param: string): GatewayException {
  return new GatewayException(ErrorCode.InvalidRequest, message, { param });
}

/** A message's text: a string, or its text parts joined with newlines; other part types are refused. */
function messageText(message: ChatMessage, index: number): string {
  const content = message.content;
  if (content === undefined || content === null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .map((part, partIndex) => {
      if (part.type !== 'text' || typeof part['text'] !== 'string') {
        throw invalid(
          `claude.ai accepts text only; found a ${part.type} part`,
          `messages[${index}].content[${partIndex}].type`,
        );
      }
      return part['text'];
    })
    .join('\n');
}

/**
 * The original's prompt template (legacy spec 5.10) with section 11's fix: every earlier user/assistant turn
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
