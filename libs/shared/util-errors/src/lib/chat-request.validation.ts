import type { ChatMessage } from '@openai-proxy/util-openai-schema';
import { ErrorCode } from './error-code';
import { GatewayException } from './gateway.exception';

/** A 400 `invalid_request_error` naming the field at fault. */
export function invalidParam(message: string, param: string): GatewayException {
  return new GatewayException(ErrorCode.InvalidRequest, message, { param });
}

/** A message's text: a string, or its text parts joined by newlines; any other part type is a 400 naming it. */
export function requireTextContent(content: ChatMessage['content'], param: string): string {
  if (content === undefined || content === null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .map((part, index) => {
      if (part.type !== 'text' || typeof part['text'] !== 'string') {
        throw invalidParam(`Only text parts are allowed here, found ${part.type}`, `${param}[${index}].type`);
      }
      return part['text'];
    })
    .join('\n');
}
